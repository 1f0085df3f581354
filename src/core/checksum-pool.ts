/**
 * XXH64 of files on worker threads (checksum-worker.ts), so that the calling thread is free for
 * other work meanwhile (verify loads the manifest schema) and, with more cores, several files hash at
 * once. Files wait in one queue, in the order given, for the first free worker; the calling thread
 * only passes messages.
 *
 * A worker costs tens of milliseconds to start, so callers use the pool for large files only
 * (verify: PARALLEL_HASH_FROM) and hash small ones in place with xxh64File.
 */
import { Worker } from 'node:worker_threads';

import type { FileDigest } from './checksum.js';
import type { PoolReply, WireError } from './checksum-protocol.js';
import { IndexCorruptionError } from './errors.js';

interface Job {
  id: number;
  file: string;
  onProgress: ((bytes: number) => void) | undefined;
  resolve: (digest: FileDigest) => void;
  reject: (err: unknown) => void;
}

interface Lane {
  worker: Worker;
  job?: Job;
}

const workerUrl = new URL('./checksum-worker.js', import.meta.url);

/** The error a worker reported, as the class xxh64File would have thrown on this thread. */
function rebuild(file: string, wire: WireError): Error {
  if (wire.corruption) return new IndexCorruptionError(wire.message);
  const err: NodeJS.ErrnoException = new Error(wire.message);
  if (wire.code !== undefined) err.code = wire.code;
  err.path = file;
  return err;
}

/** Stops a worker whose results nobody waits for any more; a late 'error' from it is ignored. */
function retire(worker: Worker): void {
  worker.removeAllListeners();
  worker.on('error', () => undefined);
  void worker.terminate();
}

export class ChecksumPool {
  private readonly lanes: Lane[] = [];
  private readonly queue: Job[] = [];
  private nextId = 0;
  private closedWith: unknown;

  /** Starts `workers` threads now, so that their start-up overlaps whatever the caller does next. */
  constructor(workers: number) {
    for (let i = 0; i < workers; i++) {
      const lane: Lane = { worker: new Worker(workerUrl) };
      lane.worker.on('message', (reply: PoolReply) => this.settle(lane, reply));
      // A worker that dies (out of memory, a bug) fails its file, and the files queued after it
      // are left to the other lanes; with none left, they fail too.
      lane.worker.on('error', (err) => this.lose(lane, err));
      lane.worker.on('exit', (code) =>
        this.lose(lane, new Error(`checksum worker exited with code ${code}`)),
      );
      this.lanes.push(lane);
    }
  }

  /**
   * The file's digest, hashed by the first free worker. The promise is marked handled, so a caller
   * that stops waiting (verify after a bad manifest) leaves no unhandled rejection behind.
   */
  hash(file: string, onProgress?: (bytes: number) => void): Promise<FileDigest> {
    const promise = new Promise<FileDigest>((resolve, reject) => {
      if (this.closedWith !== undefined) return reject(this.closedWith);
      this.queue.push({ id: this.nextId++, file, onProgress, resolve, reject });
    });
    promise.catch(() => undefined);
    this.dispatch();
    return promise;
  }

  /** Stops every worker; what is still queued or running rejects with `reason`. */
  close(reason: unknown = new Error('checksum pool closed')): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    for (const job of this.queue.splice(0)) job.reject(reason);
    for (const lane of this.lanes.splice(0)) {
      lane.job?.reject(reason);
      retire(lane.worker);
    }
  }

  private dispatch(): void {
    for (const lane of this.lanes) {
      if (lane.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      lane.job = job;
      lane.worker.postMessage({ id: job.id, file: job.file });
    }
  }

  private settle(lane: Lane, reply: PoolReply): void {
    const job = lane.job;
    if (!job || job.id !== reply.id) return;
    if ('progress' in reply) return job.onProgress?.(reply.progress);
    lane.job = undefined;
    if ('digest' in reply) {
      job.onProgress?.(reply.digest.bytes);
      job.resolve(reply.digest);
    } else job.reject(rebuild(job.file, reply.error));
    this.dispatch();
  }

  private lose(lane: Lane, err: unknown): void {
    const at = this.lanes.indexOf(lane);
    if (at < 0) return;
    this.lanes.splice(at, 1);
    retire(lane.worker);
    lane.job?.reject(err);
    if (this.lanes.length === 0) for (const job of this.queue.splice(0)) job.reject(err);
  }
}
