/**
 * The parent side of the index probe: spawns `node index-probe.js` with an IPC channel and turns
 * its replies into promises. A probe that dies (a signal such as SIGSEGV, or an abnormal exit) rejects
 * the request in flight, and every later one, with ProbeCrash: verify reports that as corruption of
 * faiss.index instead of crashing itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { FaissError, NativeLoadError } from '../errors.js';
import type { SearchResult } from '../faiss/index.js';
import { parseSeconds } from '../lifecycle/duration.js';
import type { IndexFacts, ProbeReply, ProbeRequest } from './probe-protocol.js';

const PROBE_SCRIPT = fileURLToPath(new URL('./index-probe.js', import.meta.url));
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

/** The probe did not answer a request in time and was killed: a file that hangs FAISS. */
export class ProbeTimeout extends ProbeCrash {
  constructor(
    readonly seconds: number,
    op: string,
    stderr: string,
  ) {
    super('SIGKILL', null, stderr);
    this.name = 'ProbeTimeout';
    this.message = `no answer to ${op} within ${seconds} s; the probe was killed`;
  }
}

/**
 * Seconds a probe request may take: the option, else INDEXCTL_PROBE_TIMEOUT, else no limit (loading
 * a 100 GB index from a cold disk takes as long as it takes; a CI gate sets its own bound).
 */
export function probeTimeoutSeconds(option: number | undefined): number | undefined {
  if (option !== undefined) return option;
  const env = process.env.INDEXCTL_PROBE_TIMEOUT;
  return env === undefined || env === '' ? undefined : parseSeconds(env, 'INDEXCTL_PROBE_TIMEOUT');
}

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

  constructor(private readonly timeoutSeconds?: number) {
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
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    this.child.on('error', (err) => this.die(err));
    // 'close', not 'exit': it comes once stderr is drained too, so the crash report has its last words.
    this.child.on('close', (code, signal) => this.die(new ProbeCrash(signal, code, this.stderr)));
  }

  private die(err: Error): void {
    if (this.started) {
      // Dying before the addon loaded is the installation's problem, not the index file's.
      this.started.reject(new Error(`index probe did not start (${err.message})`));
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
      if (this.timeoutSeconds !== undefined) {
        const seconds = this.timeoutSeconds;
        timer = setTimeout(() => {
          this.die(new ProbeTimeout(seconds, message.op, this.stderr));
          this.child.kill('SIGKILL');
        }, seconds * 1000);
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
