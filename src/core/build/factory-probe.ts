/**
 * Builds a factory's index in a child process (factory-probe-child.ts) before the build does any
 * work, bounded in time and memory: FAISS 1.7.3 answers some strings with a SIGSEGV, a SIGFPE or a
 * loop that allocates until the machine runs out, and none of that may happen in the process that
 * holds the writer lock. The child also tells whether the index needs training (`is_trained`).
 * A trial that passed is remembered on this machine (factory-trial-cache.ts) and not run again.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { BadInputError, NativeLoadError } from '../errors.js';
import { faissReason } from './factory-check.js';
import { cachedTrial, rememberTrial } from './factory-trial-cache.js';
import { type BuildMetric } from './plan.js';
import { formatBytes } from '../util/units.js';

const CHILD_SCRIPT = fileURLToPath(new URL('../../probe/factory-probe-child.js', import.meta.url));
const STDERR_KEEP = 4096;
const POLL_MS = 20;

/** Constructing an index takes milliseconds; minutes mean a loop (HNSW1, NSG). */
export const FACTORY_TRIAL_SECONDS = 60;
/** Node and the addon take ~100 MB; an empty index and 64 vectors add little. HNSW1 passes 3 GB. */
export const FACTORY_TRIAL_MEMORY = 1024 ** 3;

export type FactoryTrialReply =
  | { op: 'constructed'; isTrained: boolean; className: string }
  | { op: 'exercised' }
  | { op: 'error'; name: string; message: string };

export interface FactoryTrial {
  isTrained: boolean;
  className: string;
}

export interface FactoryTrialOptions {
  timeoutSeconds?: number;
  memoryBytes?: number;
  /** Named in messages: where the dimension came from. */
  file?: string;
  /** Cancels the trial: the child is killed at once and the signal's reason thrown. */
  signal?: AbortSignal | undefined;
  /** false: run the child even when this trial passed before (factory-trial-cache.ts). */
  cache?: boolean;
}

const SIGNAL_NAMES: Partial<Record<NodeJS.Signals, string>> = {
  SIGSEGV: 'segmentation fault',
  SIGFPE: 'arithmetic exception, e.g. a division by zero',
  SIGABRT: 'abort, e.g. heap corruption',
  SIGBUS: 'bus error',
  SIGILL: 'illegal instruction',
};

/** Resident memory of a process in bytes (Linux /proc), or undefined once it is gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Constructs `factory` for `dim`-dimensional vectors in a child and returns what FAISS says of it.
 * A FAISS exception, a signal, the time bound or the memory bound is a BadInputError
 * "FAISS cannot build <factory>: <reason>" (the string passed the grammar; this data cannot use it).
 */
export async function tryFactory(
  dim: number,
  factory: string,
  metric: BuildMetric,
  options: FactoryTrialOptions = {},
): Promise<FactoryTrial> {
  const seconds = options.timeoutSeconds ?? FACTORY_TRIAL_SECONDS;
  const memory = options.memoryBytes ?? FACTORY_TRIAL_MEMORY;
  const { signal } = options;
  signal?.throwIfAborted();
  const useCache = options.cache !== false;
  const known = useCache ? cachedTrial(dim, factory, metric) : undefined;
  if (known) return known;
  const child = spawn(process.execPath, [CHILD_SCRIPT, String(dim), factory, metric], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr = (stderr + t).slice(-STDERR_KEEP)));
  let killedFor: string | undefined;
  let peak = 0;
  const kill = (why: string): void => {
    killedFor ??= why;
    child.kill('SIGKILL');
  };
  const timer = setTimeout(() => kill(`no result within ${seconds} s`), seconds * 1000);
  // Starting node and the addon takes a second on a busy machine: a cancellation does not wait.
  const cancel = () => kill('cancelled');
  signal?.addEventListener('abort', cancel, { once: true });
  const poll = setInterval(() => {
    const rss = child.pid !== undefined ? residentBytes(child.pid) : undefined;
    if (rss === undefined) return;
    peak = Math.max(peak, rss);
    if (rss > memory) kill(`its memory grew past ${formatBytes(memory)}`);
  }, POLL_MS);
  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>(
    (resolve) => {
      child.on('error', (error) => resolve({ code: null, signal: null, error }));
      child.on('close', (code, signal) => resolve({ code, signal }));
    },
  ).finally(() => {
    clearTimeout(timer);
    clearInterval(poll);
    signal?.removeEventListener('abort', cancel);
  });
  if (signal?.aborted) throw signal.reason as Error;
  if (exit.error) throw exit.error;

  const replies = stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as FactoryTrialReply);
  const constructed = replies.find((r) => r.op === 'constructed');
  const failed = replies.find((r) => r.op === 'error');
  const cannot = (reason: string): BadInputError =>
    new BadInputError(
      `FAISS cannot build ${factory}: ${reason} (tried for dimension ${dim}` +
        `${options.file ? ` of ${options.file}` : ''} in a separate process; nothing was written)`,
    );
  if (failed?.op === 'error') {
    if (failed.name === 'NativeLoadError') throw new NativeLoadError(failed.message);
    throw cannot(faissReason(failed.message));
  }
  const phase = constructed ? 'adding 64 vectors to it' : 'constructing it';
  if (killedFor !== undefined) throw cannot(`${killedFor} while ${phase}; it was killed`);
  if (exit.signal !== null) {
    const name = SIGNAL_NAMES[exit.signal];
    throw cannot(`FAISS died of ${exit.signal}${name ? ` (${name})` : ''} while ${phase}`);
  }
  if (exit.code !== 0 || constructed?.op !== 'constructed') {
    const last = stderr.trim().split('\n').filter(Boolean).pop();
    throw new Error(
      `factory trial for ${factory} ended with exit code ${String(exit.code)}${last ? `: ${last.slice(0, 300)}` : ''}`,
    );
  }
  const outcome = { isTrained: constructed.isTrained, className: constructed.className };
  if (useCache) rememberTrial(dim, factory, metric, outcome);
  return outcome;
}
