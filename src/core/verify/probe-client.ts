/**
 * The parent side of the index probe: spawns `node src/probe/index-probe-child.js` with an IPC channel and turns
 * its replies into promises. A probe that dies (a signal such as SIGSEGV, or an abnormal exit) rejects
 * the request in flight, and every later one, with ProbeCrash: verify reports that as corruption of
 * faiss.index instead of crashing itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { formatBytes, parseSeconds, parseSize } from '../util/units.js';
import { FaissError, NativeLoadError, UsageError } from '../errors.js';
import type { SearchResult } from '../faiss/index.js';
import type { IndexFacts, ProbeReply, ProbeRequest } from './probe-protocol.js';

const PROBE_SCRIPT = fileURLToPath(new URL('../../probe/index-probe-child.js', import.meta.url));
const STDERR_KEEP = 4096;

/** The probe process died while it held the index. */
export class ProbeCrash extends Error {
  constructor(
    readonly signal: NodeJS.Signals | null,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(describeExit(signal, code, stderr));
    this.name = 'ProbeCrash';
  }
}

/** A bound on the probe, and where it came from (for the message that says how to raise it). */
export interface ProbeBound {
  value: number;
  source: string;
}

export interface ProbeBounds {
  /** Seconds one request (read, set parameters, search) may take. */
  timeout: ProbeBound;
  /** Bytes of resident memory (VmRSS) the probe may hold; enforced where /proc exists (Linux). */
  memory: ProbeBound;
}

/** The probe did not answer a request in time and was killed: a file that hangs FAISS. */
export class ProbeTimeout extends ProbeCrash {
  constructor(
    readonly bound: ProbeBound,
    op: string,
    stderr: string,
  ) {
    super('SIGKILL', null, stderr);
    this.name = 'ProbeTimeout';
    this.message =
      `no answer to ${op} within ${bound.value} s, the ${bound.source} bound; the probe was killed ` +
      '(raise the bound with --probe-timeout or INDEXCTL_PROBE_TIMEOUT)';
  }
}

/** The probe held more memory than its bound and was killed: a file that makes FAISS allocate. */
export class ProbeMemoryExceeded extends ProbeCrash {
  constructor(
    readonly bound: ProbeBound,
    readonly rssBytes: number,
    op: string,
    stderr: string,
  ) {
    super('SIGKILL', null, stderr);
    this.name = 'ProbeMemoryExceeded';
    this.message =
      `the probe held ${formatBytes(rssBytes)} during ${op}, over its memory bound of ` +
      `${formatBytes(bound.value)} (${bound.source}); the probe was killed ` +
      '(raise the bound with --probe-memory or INDEXCTL_PROBE_MEMORY)';
  }
}

const GIB = 1024 ** 3;
/** Default time bound: a generous base, plus a cold disk's worth of seconds per GiB of index. */
export const DEFAULT_TIMEOUT_BASE_S = 120;
export const DEFAULT_TIMEOUT_PER_GIB_S = 30;
/**
 * Default memory bound: FAISS holds the file (a flat index in RAM, IVF lists mmapped and touched),
 * IndexIDMap2's reverse map (up to ~3x the file for 8-byte PQ codes), IVF-PQ's precomputed tables
 * and the node process; 1 GiB + 8x the file covers these with room, and still ends a read that
 * allocates what a corrupt header claims.
 */
export const DEFAULT_MEMORY_BASE = GIB;
export const DEFAULT_MEMORY_FACTOR = 8;

/**
 * The raw values of INDEXCTL_PROBE_TIMEOUT and INDEXCTL_PROBE_MEMORY. The CLI reads them (src/cli.ts)
 * and passes them down, so core never reads the environment; they are parsed here, where a bad value
 * can be reported with the bound it was meant for.
 */
export interface ProbeEnv {
  timeout?: string | undefined;
  memory?: string | undefined;
}

/**
 * The probe's bounds for a faiss.index of `indexBytes`: each from its option, else its variable
 * (INDEXCTL_PROBE_TIMEOUT seconds, INDEXCTL_PROBE_MEMORY a size such as 8G, as passed in `env`),
 * else the default.
 */
export function probeBounds(
  indexBytes: number,
  options: {
    timeoutSeconds?: number | undefined;
    memoryBytes?: number | undefined;
    env?: ProbeEnv | undefined;
  } = {},
): ProbeBounds {
  const envTimeout = options.env?.timeout;
  const envMemory = options.env?.memory;
  const timeout: ProbeBound =
    options.timeoutSeconds !== undefined
      ? { value: options.timeoutSeconds, source: '--probe-timeout' }
      : envTimeout !== undefined && envTimeout !== ''
        ? { value: parseSeconds(envTimeout, 'INDEXCTL_PROBE_TIMEOUT'), source: 'INDEXCTL_PROBE_TIMEOUT' }
        : {
            value: Math.ceil(DEFAULT_TIMEOUT_BASE_S + (DEFAULT_TIMEOUT_PER_GIB_S * indexBytes) / GIB),
            source: `default: ${DEFAULT_TIMEOUT_BASE_S} s + ${DEFAULT_TIMEOUT_PER_GIB_S} s per GiB of faiss.index`,
          };
  const memory: ProbeBound =
    options.memoryBytes !== undefined
      ? { value: options.memoryBytes, source: '--probe-memory' }
      : envMemory !== undefined && envMemory !== ''
        ? { value: envSize(envMemory, 'INDEXCTL_PROBE_MEMORY'), source: 'INDEXCTL_PROBE_MEMORY' }
        : {
            value: DEFAULT_MEMORY_BASE + DEFAULT_MEMORY_FACTOR * indexBytes,
            source: `default: 1 GiB + ${DEFAULT_MEMORY_FACTOR} x the faiss.index size`,
          };
  return { timeout, memory };
}

function envSize(text: string, what: string): number {
  const bytes = parseSize(text, what);
  if (bytes < 1) throw new UsageError(`${what} must be at least 1 byte, got ${JSON.stringify(text)}`);
  return bytes;
}

/** VmRSS of a process in bytes, from /proc; undefined where there is no /proc or it has gone. */
function residentBytes(pid: number): number | undefined {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How often the parent reads the probe's resident memory. The bound is enforced from outside
 * because RLIMIT_AS would break V8's and wasm's large address-space reservations.
 */
const MEMORY_POLL_MS = 50;

function describeExit(signal: NodeJS.Signals | null, code: number | null, stderr: string): string {
  const how =
    signal !== null
      ? `signal ${signal}${signal === 'SIGKILL' ? ', perhaps out of memory' : ''}`
      : `exit code ${String(code)}`;
  const last = stderr.trim().split('\n').filter(Boolean).pop();
  return last ? `${how}; its last words: ${last.slice(0, 300)}` : how;
}

function startError(reply: ProbeReply): Error {
  if (reply.op === 'error' && reply.name === 'NativeLoadError') return new NativeLoadError(reply.message);
  return new Error(`index probe did not start: ${reply.op === 'error' ? reply.message : reply.op}`);
}

interface Pending {
  resolve: (reply: ProbeReply) => void;
  reject: (err: Error) => void;
}

export class IndexProbe {
  private readonly child: ChildProcess;
  private pending: Pending | undefined;
  private dead: Error | undefined;
  private stderr = '';
  /** Settles when the probe has loaded the addon, or failed to. */
  private readonly ready: Promise<void>;
  private started: Pending | undefined;

  private currentOp = 'start';
  private readonly watch: NodeJS.Timeout | undefined;

  constructor(private readonly bounds?: ProbeBounds) {
    this.ready = new Promise<void>((resolve, reject) => {
      this.started = { resolve: () => resolve(), reject };
    });
    // Nothing may be left unhandled if verify never gets as far as a request.
    this.ready.catch(() => undefined);
    this.child = spawn(process.execPath, [PROBE_SCRIPT], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'advanced',
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => {
      this.stderr = (this.stderr + text).slice(-STDERR_KEEP);
    });
    this.child.on('message', (reply: ProbeReply) => {
      if (this.started) {
        const started = this.started;
        this.started = undefined;
        // Before 'ready' the only other message is the reason it could not start.
        if (reply.op === 'ready') started.resolve(reply);
        else started.reject(startError(reply));
        return;
      }
      // Each answer is also a measurement: what the probe holds once it has done the request. A
      // loaded machine may delay the poll past a short request; the bound must not depend on that.
      if (this.overMemoryBound()) return;
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    this.child.on('error', (err) => this.die(err));
    if (bounds?.memory && this.child.pid !== undefined) {
      this.watch = setInterval(() => this.overMemoryBound(), MEMORY_POLL_MS);
      this.watch.unref();
    }
    // 'close', not 'exit': it comes once stderr is drained too, so the crash report has its last words.
    this.child.on('close', (code, signal) => this.die(new ProbeCrash(signal, code, this.stderr)));
  }

  /** Kills the probe (and fails the request in flight) when it holds more than its memory bound. */
  private overMemoryBound(): boolean {
    const memory = this.bounds?.memory;
    const pid = this.child.pid;
    if (!memory || pid === undefined || this.dead) return false;
    const rss = residentBytes(pid);
    if (rss === undefined || rss <= memory.value) return false;
    this.die(new ProbeMemoryExceeded(memory, rss, this.currentOp, this.stderr));
    this.child.kill('SIGKILL');
    return true;
  }

  private die(err: Error): void {
    clearInterval(this.watch);
    if (this.started) {
      // Dying before the addon loaded is the installation's problem (or a bound below what node
      // needs to start), not the index file's.
      this.started.reject(
        err instanceof ProbeMemoryExceeded
          ? new UsageError(`the index probe could not start: ${err.message}`)
          : new Error(`index probe did not start (${err.message})`),
      );
      this.started = undefined;
    }
    this.dead ??= err;
    const pending = this.pending;
    this.pending = undefined;
    pending?.reject(this.dead);
  }

  private async request(message: ProbeRequest): Promise<ProbeReply> {
    await this.ready;
    if (this.dead) throw this.dead;
    if (this.pending) throw new Error('index probe: one request at a time');
    let timer: NodeJS.Timeout | undefined;
    return new Promise<ProbeReply>((resolve, reject) => {
      this.pending = { resolve, reject };
      this.currentOp = message.op;
      const timeout = this.bounds?.timeout;
      if (timeout) {
        timer = setTimeout(() => {
          this.die(new ProbeTimeout(timeout, message.op, this.stderr));
          this.child.kill('SIGKILL');
        }, timeout.value * 1000);
      }
      this.child.send(message, (err) => {
        if (err) this.die(err);
      });
    })
      .finally(() => clearTimeout(timer))
      .then((reply) => {
        if (reply.op !== 'error') return reply;
        // FAISS refusing the file or a request is a finding; a missing addon is the machine's problem.
        if (reply.name === 'NativeLoadError') throw new NativeLoadError(reply.message);
        if (reply.name === 'FaissError') throw new FaissError(reply.message);
        throw new Error(`index probe: ${reply.name}: ${reply.message}`);
      });
  }

  /** False once the probe died or was closed: nothing more can be asked of it. */
  get alive(): boolean {
    return this.dead === undefined;
  }

  /** faiss::read_index (IVF lists mmapped, read-only) and the facts verify checks. */
  async load(file: string, threads?: number): Promise<IndexFacts> {
    const reply = await this.request({ op: 'load', file, ...(threads !== undefined ? { threads } : {}) });
    if (reply.op !== 'loaded') throw new Error(`index probe: unexpected reply ${reply.op}`);
    return reply.facts;
  }

  /** Applies `spec` through ParameterSpace and returns the stored parameters before and after. */
  async setParameters(
    spec: string,
  ): Promise<{ before: Record<string, number>; after: Record<string, number> }> {
    const reply = await this.request({ op: 'parameters', spec });
    if (reply.op !== 'parameters') throw new Error(`index probe: unexpected reply ${reply.op}`);
    return { before: reply.before, after: reply.after };
  }

  async search(queries: Float32Array, k: number): Promise<SearchResult & { ms: number }> {
    const reply = await this.request({ op: 'search', queries, k });
    if (reply.op !== 'searched') throw new Error(`index probe: unexpected reply ${reply.op}`);
    return { distances: reply.distances, labels: reply.labels, ms: reply.ms };
  }

  /**
   * Ends the probe: closing the channel makes it exit; a probe still busy (verify gave up on a
   * request) is killed instead of being waited for. Safe to call twice.
   */
  close(): void {
    const busy = this.pending !== undefined;
    this.die(new Error('index probe: closed'));
    if (this.child.connected) this.child.disconnect();
    if (busy && this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}
