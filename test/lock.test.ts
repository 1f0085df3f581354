import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { IndexCorruptionError, LockHeldError, NotFoundError } from '../src/core/errors.js';
import { acquireWriterLock, isLockHeld, readLockOwner, WriterLockHeldError } from '../src/core/lock.js';
import { bootId, processStartTicks } from '../src/core/util/pid.js';
import { tmpDir } from './helpers/tmp.js';

const childScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'lock-child.js');

interface ChildEvent {
  event: 'acquired' | 'released' | 'error';
  pid?: number;
  name?: string;
  exitCode?: number;
  message?: string;
}

/** A lock-child process and its JSON-line events, in order. */
function startChild(root: string, waitSeconds = 0): { child: ChildProcess; next: () => Promise<ChildEvent> } {
  const child = spawn(process.execPath, [childScript, root, String(waitSeconds)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    next: async () => {
      const { value, done } = await lines.next();
      if (done) throw new Error('child ended without an event');
      return JSON.parse(value as string) as ChildEvent;
    },
  };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function freshRoot(): string {
  const root = path.join(tmpDir(), 'root');
  mkdirSync(root);
  return root;
}

/** A pid that was just used and has exited. */
function deadPid(): number {
  const res = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number(res.stdout.trim());
}

function writeLock(root: string, owner: Record<string, unknown>): string {
  const file = path.join(root, '.lock');
  writeFileSync(
    file,
    JSON.stringify({ command: 'build', started: new Date().toISOString(), token: 'old', ...owner }),
  );
  return file;
}

describe('writer lock within one process', () => {
  it('acquires, records the holder, releases, and can be acquired again', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'publish v1' });
    assert.equal(lock.path, path.join(root, '.lock'));
    const owner = readLockOwner(root);
    assert.equal(owner?.pid, process.pid);
    assert.equal(owner?.host, os.hostname());
    assert.equal(owner?.command, 'publish v1');
    assert.equal(owner?.token, lock.owner.token);
    assert.equal(isLockHeld(root), true);
    lock.release();
    lock.release();
    assert.equal(existsSync(lock.path), false);
    assert.equal(isLockHeld(root), false);
    (await acquireWriterLock(root, { command: 'again' })).release();
    assert.deepEqual(readdirSync(root), [], 'no temp or marker files left behind');
  });

  it('is not re-entrant: a second acquire fails with LockHeldError (exit 75) naming the holder', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'build' });
    await assert.rejects(acquireWriterLock(root, { command: 'gc' }), (err: unknown) => {
      assert.ok(err instanceof WriterLockHeldError);
      assert.ok(err instanceof LockHeldError);
      assert.equal(err.exitCode, 75);
      assert.equal(err.holder?.pid, process.pid);
      assert.match(err.message, /"build", pid \d+/);
      return true;
    });
    // Waiting a little and still not getting it ends with the same error.
    await assert.rejects(
      acquireWriterLock(root, { command: 'gc', waitSeconds: 0.1, pollMs: 10 }),
      LockHeldError,
    );
    lock.release();
  });

  it('release leaves a lock that is no longer its own', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'build' });
    writeLock(root, { pid: process.pid, host: os.hostname(), token: 'someone-else' });
    lock.release();
    assert.equal(readLockOwner(root)?.token, 'someone-else');
  });

  it('refuses a missing root with NotFoundError', async () => {
    await assert.rejects(acquireWriterLock(path.join(tmpDir(), 'nope'), { command: 'x' }), NotFoundError);
  });
});

describe('writer lock across processes', () => {
  it('a lock held by another process is refused; a waiter gets it once released', async () => {
    const root = freshRoot();
    const holder = startChild(root);
    const first = await holder.next();
    assert.equal(first.event, 'acquired');
    await assert.rejects(acquireWriterLock(root, { command: 'publish' }), (err: unknown) => {
      assert.ok(err instanceof WriterLockHeldError);
      assert.equal(err.holder?.pid, holder.child.pid);
      assert.equal(err.holder?.command, 'test child');
      return true;
    });
    const waiting = acquireWriterLock(root, { command: 'publish', waitSeconds: 60, pollMs: 20 });
    holder.child.stdin!.write('release\n');
    const lock = await waiting;
    assert.equal(readLockOwner(root)?.pid, process.pid);
    assert.equal((await holder.next()).event, 'released');
    assert.equal(await exited(holder.child), 0);
    lock.release();
  });

  it('another process trying while this one holds exits with 75', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'build' });
    const other = startChild(root);
    const ev = await other.next();
    assert.equal(ev.event, 'error');
    assert.equal(ev.name, 'WriterLockHeldError');
    assert.equal(await exited(other.child), 75);
    lock.release();
  });

  it('a child waiting for the lock gets it when this process releases', async () => {
    const root = freshRoot();
    const lock = await acquireWriterLock(root, { command: 'build' });
    const waiter = startChild(root, 60);
    // Released only once the child has found it held, so the child cannot have come late.
    assert.equal((await waiter.next()).event, 'waiting');
    lock.release();
    assert.equal((await waiter.next()).event, 'acquired');
    assert.equal(readLockOwner(root)?.pid, waiter.child.pid);
    waiter.child.stdin!.end();
    assert.equal(await exited(waiter.child), 0);
  });

  it('takes over the lock of a SIGKILLed holder', async () => {
    const root = freshRoot();
    const holder = startChild(root);
    assert.equal((await holder.next()).event, 'acquired');
    holder.child.kill('SIGKILL');
    await exited(holder.child);
    assert.equal(readLockOwner(root)?.pid, holder.child.pid, 'the dead holder left its lock');
    const lock = await acquireWriterLock(root, { command: 'publish' });
    assert.equal(readLockOwner(root)?.token, lock.owner.token);
    lock.release();
    assert.deepEqual(readdirSync(root), []);
  });

  it('of several processes racing for a dead holder’s lock, exactly one wins', async () => {
    const root = freshRoot();
    writeLock(root, { pid: deadPid(), host: os.hostname() });
    const racers = Array.from({ length: 4 }, () => startChild(root));
    const events = await Promise.all(racers.map((r) => r.next()));
    const winners = events.filter((e) => e.event === 'acquired');
    assert.equal(winners.length, 1, JSON.stringify(events));
    for (const e of events) if (e.event === 'error') assert.equal(e.exitCode, 75);
    assert.equal(readLockOwner(root)?.pid, winners[0]!.pid);
    for (const r of racers) r.child.stdin!.end();
    await Promise.all(racers.map((r) => exited(r.child)));
    assert.deepEqual(readdirSync(root), [], 'no markers left');
  });
});

describe('stale and foreign locks', () => {
  it('collects lock temp files of dead processes at the next acquisition, not those of live ones', async () => {
    const root = freshRoot();
    const dead = deadPid();
    const stale = [`.lock.${dead}.deadbeef.tmp`, `.lock.takeover.${'ab'.repeat(12)}.1.${dead}.0badc0de.tmp`];
    const live = `.lock.${process.ppid}.feedf00d.tmp`;
    for (const name of [...stale, live]) writeFileSync(path.join(root, name), '{"torn');
    writeFileSync(path.join(root, 'notes.tmp'), 'not ours');
    const lock = await acquireWriterLock(root, { command: 'x' });
    lock.release();
    assert.deepEqual(readdirSync(root).sort(), [live, 'notes.tmp']);
  });

  it('refuses a root whose staging/ or versions/ is a symlink or not a directory (exit 4), naming it', async () => {
    for (const [name, make] of [
      ['staging', (p: string, other: string) => symlinkSync(other, p)],
      ['versions', (p: string, other: string) => symlinkSync(other, p)],
      ['staging', (p: string) => writeFileSync(p, 'a file')],
    ] as const) {
      const root = freshRoot();
      const other = path.join(path.dirname(root), 'elsewhere');
      mkdirSync(other);
      make(path.join(root, name), other);
      await assert.rejects(acquireWriterLock(root, { command: 'x' }), (err: unknown) => {
        assert.ok(err instanceof IndexCorruptionError);
        assert.equal(err.exitCode, 4);
        assert.match(
          err.message,
          new RegExp(`${name} is a (symlink|regular file).*${name}/ must be a real directory`),
        );
        return true;
      });
      assert.ok(!existsSync(path.join(root, '.lock')));
    }
  });

  /** Acquires over the lock `owner` describes, and checks the lock is now this process's. */
  async function takesOver(owner: Record<string, unknown>): Promise<void> {
    const root = freshRoot();
    writeLock(root, { host: os.hostname(), ...owner });
    const lock = await acquireWriterLock(root, { command: 'x' });
    assert.equal(readLockOwner(root)?.token, lock.owner.token, 'the old lock was replaced by ours');
    assert.equal(readLockOwner(root)?.pid, process.pid);
    lock.release();
    assert.deepEqual(readdirSync(root), []);
  }

  /** The same lock, but its holder alive: refused (the control that makes a takeover meaningful). */
  async function refuses(owner: Record<string, unknown>): Promise<void> {
    const root = freshRoot();
    writeLock(root, { host: os.hostname(), ...owner });
    await assert.rejects(acquireWriterLock(root, { command: 'x' }), WriterLockHeldError);
    assert.equal(readLockOwner(root)?.token, 'old');
  }

  it('takes over a lock whose pid has exited', async () => {
    await refuses({ pid: process.ppid });
    await takesOver({ pid: deadPid() });
  });

  it('takes over a lock whose pid was reused by another process (start time differs)', async () => {
    const start = processStartTicks(process.ppid);
    assert.ok(start !== undefined, 'this test needs /proc');
    await refuses({ pid: process.ppid, pidStart: start });
    await takesOver({ pid: process.ppid, pidStart: '1' });
  });

  it('takes over a lock recorded before a reboot (boot id differs)', async () => {
    const boot = bootId();
    assert.ok(boot !== undefined, 'this test needs /proc');
    await refuses({ pid: process.ppid, bootId: boot });
    await takesOver({ pid: process.ppid, bootId: 'another-boot' });
  });

  it('never takes over a lock from another host, and says how to clear it', async () => {
    const root = freshRoot();
    const file = writeLock(root, { pid: deadPid(), host: 'elsewhere.example' });
    await assert.rejects(acquireWriterLock(root, { command: 'x' }), (err: unknown) => {
      assert.ok(err instanceof WriterLockHeldError);
      assert.match(err.message, /another host/);
      assert.ok(err.message.includes(file));
      return true;
    });
    assert.equal(readLockOwner(root)?.host, 'elsewhere.example');
  });

  it('an unreadable lock is held while fresh and taken over once old', async () => {
    const root = freshRoot();
    const file = path.join(root, '.lock');
    writeFileSync(file, '{"pid": 12');
    await assert.rejects(acquireWriterLock(root, { command: 'x' }), /cannot be read as a lock/);
    const old = new Date(Date.now() - 60_000);
    utimesSync(file, old, old);
    (await acquireWriterLock(root, { command: 'x' })).release();
  });

  it('a takeover marker left by a dead taker does not wedge the lock', async () => {
    const root = freshRoot();
    writeLock(root, { pid: deadPid(), host: os.hostname(), token: 'tok' });
    const deadTaker = { pid: deadPid(), host: os.hostname(), command: 'x', started: '', token: 't2' };
    writeFileSync(path.join(root, '.lock.takeover.tok.1'), JSON.stringify(deadTaker));
    (await acquireWriterLock(root, { command: 'x' })).release();
    assert.deepEqual(readdirSync(root), []);
  });

  it('while a live process holds the takeover marker, others stay out', async () => {
    const root = freshRoot();
    const file = writeLock(root, { pid: deadPid(), host: os.hostname(), token: 'tok' });
    const liveTaker = { pid: process.pid, host: os.hostname(), command: 'x', started: '', token: 't2' };
    writeFileSync(path.join(root, '.lock.takeover.tok.1'), JSON.stringify(liveTaker));
    const before = readFileSync(file, 'utf8');
    await assert.rejects(acquireWriterLock(root, { command: 'x' }), /taking it over/);
    assert.equal(readFileSync(file, 'utf8'), before);
  });
});
