"""Runs a command in a real pseudo-terminal and reports how it ended (test/signals.test.ts).

Usage: pty_run.py JSON, where JSON is {argv, env?, cwd?, cols?, rows?, wait_for?, delay?, send?,
timeout?, stdout_file?}: the command's stdin, stdout and stderr are the pty's slave, which is its controlling
terminal (so Ctrl-C written to the master becomes SIGINT through the line discipline, as in a real
terminal). `wait_for` (a regex on the output) or `delay` seconds decide when `send` happens:
"ctrl-c" writes \\x03 to the master, "SIGTERM"/"SIGHUP"/"SIGINT" signal the process. The window
size is set with TIOCSWINSZ (cols 0 is what some `docker exec -t` terminals report).

Prints one JSON object: exit code (or -signal), seconds from the send to the exit, whether the
send happened, total output bytes and the output (head and tail when long).
"""
import fcntl
import json
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

spec = json.loads(sys.argv[1])
master, slave = os.openpty()
fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", spec.get("rows", 24), spec.get("cols", 80), 0, 0))


def controlling_tty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


env = dict(os.environ)
env.update(spec.get("env", {}))
# `stdout_file`: stdout goes there (so the pty shows stderr alone); default the pty too.
stdout = open(spec["stdout_file"], "wb") if spec.get("stdout_file") else slave
proc = subprocess.Popen(
    spec["argv"], stdin=slave, stdout=stdout, stderr=slave, env=env, cwd=spec.get("cwd"),
    preexec_fn=controlling_tty, close_fds=True,
)
os.close(slave)

KEEP = 64 * 1024
head = bytearray()
tail = bytearray()
total = 0
start = time.monotonic()
sent_at = None
timeout = spec.get("timeout", 120)
wait_for = re.compile(spec["wait_for"]) if spec.get("wait_for") else None
delay = spec.get("delay")
send = spec.get("send")
seen = ""  # decoded output scanned for wait_for (bounded)
timed_out = False


def do_send():
    global sent_at
    sent_at = time.monotonic()
    if send == "ctrl-c":
        os.write(master, b"\x03")
    else:
        os.kill(proc.pid, getattr(signal, send))


while True:
    if send and sent_at is None:
        ready = (wait_for and wait_for.search(seen)) or (delay is not None and time.monotonic() - start >= delay)
        if ready:
            do_send()
    r, _, _ = select.select([master], [], [], 0.05)
    if r:
        try:
            data = os.read(master, 65536)
        except OSError:
            data = b""
        if data:
            total += len(data)
            if len(head) < KEEP:
                head += data[: KEEP - len(head)]
            tail = (tail + data)[-KEEP:]
            seen = (seen + data.decode("utf-8", "replace"))[-KEEP:]
            continue
        # EIO: every holder of the slave closed it (the process and its children ended)
        if proc.poll() is not None:
            break
    elif proc.poll() is not None:
        break
    if time.monotonic() - start > timeout:
        timed_out = True
        proc.kill()
        proc.wait()
        break

ended = time.monotonic()
code = proc.wait()
out = head.decode("utf-8", "replace")
if total > KEEP:
    out += "\n...\n" + tail.decode("utf-8", "replace")
print(json.dumps({
    "code": code,
    "sent": sent_at is not None,
    "afterSend": (ended - sent_at) if sent_at is not None else None,
    "seconds": ended - start,
    "timedOut": timed_out,
    "bytes": total,
    "output": out,
}))
