/**
 * How verify hashes a version's files, started as soon as the version directory is known, before
 * the manifest is even read, so the hashing overlaps loading the manifest schema on this thread:
 * every regular file on libuv's thread pool through the checksum addon (hash-addon.ts) when it is
 * here; else the large ones on a worker thread (checksum-pool.ts) and the small ones here with
 * xxh64File. Nothing is judged early: each files.checksum check still compares the file's size,
 * then its digest, with the manifest, and a digest nobody asks for is thrown away.
 */
import { statSync, type Stats } from 'node:fs';
import { availableParallelism } from 'node:os';
import path from 'node:path';

import { xxh64FileDigest, type ChecksumOptions, type FileDigest } from '../checksum.js';
import { ChecksumPool } from '../checksum-pool.js';
import { hasNativeFileHash, hashFileNative, type NativeFileHash } from '../hash-addon.js';
import { VERSION_FILES } from '../layout.js';
import type { ManifestFileEntry } from '../manifest/schema.js';

/**
 * Files from this size on go to a worker: one costs about 30-50 ms to start, the time to hash
 * 150-250 MB here, so below this the thread would cost more than it saves.
 */
export const PARALLEL_HASH_FROM = 64 << 20;

/** How checkChecksum gets one file's digest, and the hashing options for the in-place path. */
export interface FileHashing extends ChecksumOptions {
  /** The file's digest from elsewhere (a worker), instead of hashing it here. */
  digest?: () => Promise<FileDigest>;
}

export interface VersionHashingOptions {
  /** Files of at least this many bytes are hashed on worker threads; default PARALLEL_HASH_FROM. */
  parallelFrom?: number;
  /** Through the checksum addon when it is installed (default true); false: xxhash-wasm. */
  native?: boolean;
  signal?: AbortSignal;
}

/** A file the checks will find missing or unreadable is theirs to report, in their order. */
function statOrNothing(file: string): Stats | undefined {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}

export class VersionHashing {
  private readonly pool: ChecksumPool | undefined;
  private readonly pooled = new Map<string, Promise<FileDigest>>();
  private readonly native = new Map<string, NativeFileHash>();
  private poll: ReturnType<typeof setInterval> | undefined;
  private readonly done = new Map<string, number>();
  private total = 0;
  private onProgress: ((done: number, total: number) => void) | undefined;
  private readonly abort = (): void => this.close();

  /**
   * Starts hashing the regular files among `names` in `dir`: all of them through the checksum
   * addon, or, without it, those large enough for a worker.
   */
  constructor(
    private readonly dir: string,
    names: readonly string[],
    private readonly options: VersionHashingOptions = {},
  ) {
    if (options.native !== false && hasNativeFileHash()) {
      this.startNative(names);
      return;
    }
    const from = options.parallelFrom ?? PARALLEL_HASH_FROM;
    const cores = availableParallelism();
    // Only regular files: opening a FIFO would block a worker forever; files.present reports it.
    const sizes = new Map<string, number>();
    for (const name of names) {
      const s = statOrNothing(path.join(dir, name));
      if (s?.isFile() && s.size >= from) sizes.set(name, s.size);
    }
    // faiss.index first (levels 2 and 3 start reading it in the probe once it passes), then largest
    // first, so the lanes finish close together.
    const rank = (name: string): number => (name === VERSION_FILES.index ? Infinity : sizes.get(name)!);
    const large = [...sizes.keys()].sort((a, b) => rank(b) - rank(a));
    if (cores < 2 || large.length === 0) return;
    // A worker's double-buffered reads keep two threads busy (its own hashing, a thread-pool read):
    // one worker per two cores. Two sync-read workers on this 2-core VM were slower under load,
    // each worker's start-up costing CPU (docs/PERFORMANCE.md "verify start-up").
    this.pool = new ChecksumPool(Math.min(Math.floor(cores / 2), large.length));
    for (const name of large) {
      this.pooled.set(
        name,
        this.pool.hash(path.join(dir, name), (bytes) => this.progress(name, bytes)),
      );
    }
    options.signal?.addEventListener('abort', this.abort, { once: true });
  }

  /**
   * Every regular file at once: the pool's threads (4 by default) share the cores, and a small file
   * costs a queue entry, not a thread's start-up.
   */
  private startNative(names: readonly string[]): void {
    for (const name of names) {
      const file = path.join(this.dir, name);
      if (!statOrNothing(file)?.isFile()) continue;
      const hash = hashFileNative(file)!;
      // A hash nobody asks for (the manifest does not list the file) must not reject unhandled.
      hash.digest.catch(() => undefined);
      this.native.set(name, hash);
    }
    this.options.signal?.addEventListener('abort', this.abort, { once: true });
  }

  /** From here on, progress is reported as bytes hashed of `files`' total (the manifest's sizes). */
  report(files: Record<string, ManifestFileEntry>, onProgress?: (done: number, total: number) => void): void {
    this.total = Object.values(files).reduce((sum, f) => sum + f.bytes, 0);
    this.onProgress = onProgress;
    if (onProgress && this.native.size > 0 && !this.poll) {
      this.poll = setInterval(() => {
        for (const [name, hash] of this.native) this.progress(name, hash.done());
      }, 100);
      this.poll.unref();
    }
  }

  /** What checkChecksum needs to get `name`'s digest: the worker's, or a hash done here. */
  of(name: string): FileHashing {
    const signal = this.options.signal ? { signal: this.options.signal } : {};
    const pooled = this.pooled.get(name);
    if (pooled) return { ...signal, digest: () => pooled };
    const file = path.join(this.dir, name);
    const native = this.native.get(name);
    if (native) {
      // A native failure is read again here so that it is classified as the in-place path does
      // (missing, unreadable, an I/O error while reading: checksum.ts). Chained only when asked
      // for: a check that returns before it (a size mismatch) must not leave a rejection unhandled.
      const digest = (): Promise<FileDigest> =>
        native.digest.then(
          (d) => (this.progress(name, d.bytes), d),
          () => {
            if (this.options.signal?.aborted) throw this.options.signal.reason;
            return xxh64FileDigest(file, signal);
          },
        );
      return { ...signal, digest };
    }
    return {
      ...signal,
      digest: () => xxh64FileDigest(file, { ...signal, onProgress: (bytes) => this.progress(name, bytes) }),
    };
  }

  /** Stops the workers (a cancelled verify: with the signal's reason). Safe to call twice. */
  close(): void {
    this.options.signal?.removeEventListener('abort', this.abort);
    clearInterval(this.poll);
    for (const hash of this.native.values()) hash.cancel();
    this.pool?.close(this.options.signal?.aborted ? this.options.signal.reason : undefined);
  }

  private progress(name: string, bytes: number): void {
    this.done.set(name, bytes);
    if (!this.onProgress) return;
    let sum = 0;
    for (const b of this.done.values()) sum += b;
    this.onProgress(sum, this.total);
  }
}
