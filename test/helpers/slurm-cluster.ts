/**
 * A private single-node Slurm cluster for one test file: Debian's munged, slurmctld and slurmd
 * started as children, configured entirely inside a temporary directory (its own slurm.conf, munge
 * key and socket, state, spool and free ports), so it never touches /etc/slurm, /etc/munge or a
 * system cluster. `stop()` cancels what is left in the queue, ends the daemons' process groups and
 * then anything else still carrying this cluster's SLURM_CONF (job steps), by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The commands the cluster and the tests need, from Debian's slurmctld, slurmd, slurm-client, munge. */
const NEEDED = [
  'munged',
  'munge',
  'slurmctld',
  'slurmd',
  'sbatch',
  'srun',
  'sinfo',
  'squeue',
  'scancel',
  'scontrol',
];
export const SLURM_PACKAGES = 'slurmctld slurmd slurm-client munge';

/** Why this machine lacks the Slurm and munge commands, or undefined when it has them all. */
export function slurmMissing(): string | undefined {
  const missing = NEEDED.filter((cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0);
  if (missing.length === 0) return undefined;
  return `Slurm is not installed (no ${missing.join(', ')} on PATH): apt-get install ${SLURM_PACKAGES}, or scripts/setup.sh --test`;
}

/** slurmd starts job steps as the submitting user, which takes root. */
export function notRoot(): string | undefined {
  return process.getuid?.() === 0
    ? undefined
    : 'the single-node Slurm cluster needs root (slurmd starts job steps)';
}

export interface SlurmCluster {
  dir: string;
  conf: string;
  /** The environment for Slurm clients (sbatch, srun, squeue): SLURM_CONF points at this cluster. */
  env: NodeJS.ProcessEnv;
  /** Runs a Slurm client command against this cluster; throws with its stderr when it fails. */
  client(command: string, args: string[]): string;
  /** Processes of this cluster still alive: `pid command` lines (empty once stopped). */
  leftovers(): string[];
  stop(): Promise<void>;
}

interface Daemon {
  name: string;
  child: ChildProcess;
  log: string;
  exited: boolean;
}

const DEADLINE_MS = 120_000;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function tail(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').slice(-25).join('\n') : '(no log)';
}

/** Starts `command` in its own process group, stdout and stderr to `log`. */
function startDaemon(
  name: string,
  command: string,
  args: string[],
  log: string,
  env: NodeJS.ProcessEnv,
): Daemon {
  const fd = openSync(log, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', fd, fd], env });
  const daemon: Daemon = { name, child, log, exited: false };
  child.on('exit', () => (daemon.exited = true));
  child.on('error', () => (daemon.exited = true));
  return daemon;
}

async function until(what: string, daemons: Daemon[], ready: () => boolean): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!ready()) {
    const dead = daemons.find((d) => d.exited);
    if (dead) throw new Error(`${dead.name} exited while waiting for ${what}; its log:\n${tail(dead.log)}`);
    if (Date.now() > deadline) {
      throw new Error(
        `no ${what} after ${DEADLINE_MS / 1000} s; logs:\n` +
          daemons.map((d) => `--- ${d.name}\n${tail(d.log)}`).join('\n'),
      );
    }
    await sleep(200);
  }
}

/** Pids (other than ours) whose command line names `dir` or whose environment holds `marker`. */
function processesOf(dir: string, marker: string): string[] {
  const found = new Map<number, string>();
  const byCmdline = spawnSync('pgrep', ['-af', dir], { encoding: 'utf8' }).stdout;
  for (const line of byCmdline.split('\n').filter(Boolean)) found.set(Number(line.split(' ')[0]), line);
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid || found.has(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(marker)) {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1').replace(/\0/g, ' ').trim();
        found.set(pid, `${pid} ${cmd}`);
      }
    } catch {
      // gone meanwhile, or a kernel thread
    }
  }
  found.delete(process.pid);
  return [...found.values()];
}

async function stopDaemon(d: Daemon): Promise<void> {
  if (d.exited || d.child.pid === undefined) return;
  const exited = new Promise((resolve) => d.child.once('exit', resolve));
  const group = -d.child.pid;
  try {
    process.kill(group, 'SIGTERM');
  } catch {
    return; // the group is gone already
  }
  // An unref'd timer: a daemon that exits at once must not keep the test process alive 30 s.
  const killed = await Promise.race([exited.then(() => true), sleep(30_000, false, { ref: false })]);
  if (!killed) {
    try {
      process.kill(group, 'SIGKILL');
    } catch {
      // exited between the deadline and the kill
    }
    await exited;
  }
}

/**
 * Writes the configuration into `dir` (an existing directory, made traversable by all: munged
 * requires that of its socket's directories) and starts the cluster.
 */
export async function startSlurmCluster(dir: string): Promise<SlurmCluster> {
  // munged refuses a socket whose directories others cannot traverse; the key stays 0600.
  chmodSync(dir, 0o711);
  for (const sub of ['run', 'state', 'spool', 'log']) mkdirSync(path.join(dir, sub), { mode: 0o755 });
  const key = path.join(dir, 'munge.key');
  writeFileSync(key, randomBytes(1024), { mode: 0o600 });
  const socket = path.join(dir, 'run', 'munge.sock');
  const conf = path.join(dir, 'slurm.conf');
  const host = os.hostname().split('.')[0]!;
  const cpus = os.availableParallelism();
  // Less than the machine has: slurmd drains a node that reports less memory than configured.
  const memoryMiB = Math.floor((os.totalmem() / 2 ** 20) * 0.9);
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  writeFileSync(
    conf,
    [
      'ClusterName=indexctl-test',
      `SlurmctldHost=${host}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${socket}`,
      `StateSaveLocation=${path.join(dir, 'state')}`,
      `SlurmdSpoolDir=${path.join(dir, 'spool')}`,
      `SlurmctldPidFile=${path.join(dir, 'run', 'slurmctld.pid')}`,
      `SlurmdPidFile=${path.join(dir, 'run', 'slurmd.pid')}`,
      `SlurmctldLogFile=${path.join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${path.join(dir, 'log', 'slurmd.log')}`,
      'MailProg=/bin/true',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'MpiDefault=none',
      'SwitchType=switch/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_CPU',
      'ReturnToService=2',
      'KillWait=5',
      // sbatch --wait polls after 2 s, then every 8 s while MinJobAge/2 <= 8 (every 32 s by default).
      'MinJobAge=16',
      `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memoryMiB} State=UNKNOWN`,
      `PartitionName=test Nodes=${host} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'),
  );
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const marker = `SLURM_CONF=${conf}`;
  const daemons: Daemon[] = [];
  const client = (command: string, args: string[]): string => {
    const res = spawnSync(command, args, { encoding: 'utf8', env, timeout: DEADLINE_MS });
    if (res.status !== 0) {
      throw new Error(`${command} ${args.join(' ')}: exit ${res.status}\n${res.stderr}${res.error ?? ''}`);
    }
    return res.stdout;
  };

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    const ctld = daemons.find((d) => d.name === 'slurmctld');
    if (ctld && !ctld.exited) {
      // Jobs first, so their steps end through slurmd rather than being orphaned by its exit.
      spawnSync('scancel', ['--partition=test'], { env, timeout: 30_000 });
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const q = spawnSync('squeue', ['-h', '-o', '%i'], { encoding: 'utf8', env, timeout: 30_000 });
        if (q.status !== 0 || q.stdout.trim() === '') break;
        await sleep(500);
      }
    }
    for (const d of [...daemons].reverse()) await stopDaemon(d);
    // Anything of this cluster still alive (a step slurmd could not end) is killed by pid.
    for (const line of processesOf(dir, marker)) {
      try {
        process.kill(Number(line.split(' ')[0]), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };

  try {
    daemons.push(
      startDaemon(
        'munged',
        'munged',
        [
          '--foreground',
          `--key-file=${key}`,
          `--socket=${socket}`,
          `--pid-file=${path.join(dir, 'run', 'munged.pid')}`,
          `--log-file=${path.join(dir, 'log', 'munged.log')}`,
          `--seed-file=${path.join(dir, 'run', 'munged.seed')}`,
        ],
        path.join(dir, 'log', 'munged.out'),
        env,
      ),
    );
    await until('munge socket', daemons, () => existsSync(socket));
    daemons.push(
      startDaemon('slurmctld', 'slurmctld', ['-D', '-f', conf], path.join(dir, 'log', 'slurmctld.out'), env),
    );
    daemons.push(
      startDaemon(
        'slurmd',
        'slurmd',
        ['-D', '-f', conf, '-N', host],
        path.join(dir, 'log', 'slurmd.out'),
        env,
      ),
    );
    await until('idle node in sinfo', daemons, () => {
      const res = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { encoding: 'utf8', env, timeout: 30_000 });
      return res.status === 0 && res.stdout.trim() === 'idle';
    });
  } catch (err) {
    await stop();
    throw err;
  }
  return { dir, conf, env, client, leftovers: () => processesOf(dir, marker), stop };
}
