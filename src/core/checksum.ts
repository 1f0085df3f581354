/**
 * File checksums: XXH64 with seed 0, written `xxh64:<16 lowercase hex>`, the hex being the canonical
 * (big-endian) digest exactly as `xxhsum -H1 FILE` prints it, so an operator can check a file by hand.
 *
 * Speed comes from how the file is read, not from the hash (docs/PERFORMANCE.md): buffers are reused
 * (fresh memory is slow to first touch), small enough to stay in cache, and filled by plain reads;
 * streams are 7x slower. See bench/checksum.ts for the figures.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import xxhash from 'xxhash-wasm';

import { IndexCorruptionError } from './errors.js';

export type Xxh64Api = Awaited<ReturnType<typeof xxhash>>;

const PREFIX = 'xxh64:';
const CHECKSUM_RE = /^xxh64:[0-9a-f]{16}$/;
export const checksumPattern = CHECKSUM_RE;

/** 1 MiB measured fastest for the synchronous loop (docs/PERFORMANCE.md: 4 MiB -4%, 16 MiB -26%). */
const SYNC_CHUNK = 1 << 20;

let api: Promise<Xxh64Api> | undefined;

/** The xxhash-wasm instance, compiled once per process. */
export function loadXxh64(): Promise<Xxh64Api> {
  api ??= xxhash();
  return api;
}

export function formatChecksum(digest: bigint): string {
  return PREFIX + BigInt.asUintN(64, digest).toString(16).padStart(16, '0');
}

/** The 64-bit digest in a checksum string; throws on anything that is not `xxh64:<16 hex>`. */
export function parseChecksum(text: string): bigint {
  if (!CHECKSUM_RE.test(text)) {
    throw new TypeError(`not an xxh64 checksum (expected xxh64:<16 lowercase hex>): ${JSON.stringify(text)}`);
  }
  return BigInt('0x' + text.slice(PREFIX.length));
}

export function isChecksum(text: unknown): text is string {
  return typeof text === 'string' && CHECKSUM_RE.test(text);
}

/** XXH64 of a byte array (small inputs; files go through the streaming functions). */
export async function xxh64Bytes(bytes: Uint8Array): Promise<string> {
  return formatChecksum((await loadXxh64()).h64Raw(bytes, 0n));
}

// Node has WebAssembly; the TypeScript lib this project compiles with (ES2022, no DOM) lacks it.
const WasmMemory = (
  globalThis as unknown as {
    WebAssembly: { Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer } };
  }
).WebAssembly.Memory;

/**
 * A read buffer starting on a page boundary. Where the kernel copies to matters here: a destination
 * 1-31 bytes past a page boundary reads the page cache at 2.7-6.6 GB/s instead of 8.8-9.3 (AMD
 * EPYC), and a malloc'd buffer of this size starts 16 bytes past one. A WebAssembly.Memory is
 * always page-aligned.
 */
export function pageAlignedBuffer(bytes: number): Buffer {
  const memory = new WasmMemory({ initial: Math.ceil(bytes / 65536) });
  return Buffer.from(memory.buffer, 0, bytes);
}

// Reused across calls: fresh memory costs more to touch than hashing it (docs/PERFORMANCE.md). One is
// enough for the sync path, which cannot run twice at once.
let syncBuffer: Buffer | undefined;

function unreadable(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // A missing or unreadable file is the caller's to classify when it is ENOENT (files.present);
  // an I/O error while reading is a damaged file.
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return err as Error;
  return new IndexCorruptionError(`${file}: read failed while checksumming: ${(err as Error).message}`, {
    cause: err,
  });
}

/** A file's checksum and the bytes that were hashed to get it. */
export interface FileDigest {
  checksum: string;
  bytes: number;
}

/**
 * XXH64 of a file, synchronously (read, then hash, on one thread): for callers that cannot await,
 * and for the checksum workers (checksum-pool.ts), whose thread does nothing else. `onChunk` is
 * told the bytes hashed so far after each read. Needs the wasm instance from `await loadXxh64()`.
 */
export function xxh64FileDigestSync(
  file: string,
  hasher: Xxh64Api,
  onChunk?: (bytes: number) => void,
): FileDigest {
  const fd = openSync(file, 'r');
  const buf = (syncBuffer ??= pageAlignedBuffer(SYNC_CHUNK));
  try {
    const state = hasher.create64(0n);
    let pos = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, pos);
      } catch (err) {
        throw unreadable(file, err);
      }
      if (n === 0) break;
      state.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
      onChunk?.(pos);
    }
    return { checksum: formatChecksum(state.digest()), bytes: pos };
  } finally {
    closeSync(fd);
  }
}

/** XXH64 of a file, synchronously; see xxh64FileDigestSync. */
export function xxh64FileSync(file: string, hasher: Xxh64Api): string {
  return xxh64FileDigestSync(file, hasher).checksum;
}

export interface ChecksumOptions {
  /** Called after each chunk with bytes hashed so far (for a progress bar). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/** 2-4 MiB measured fastest for the double-buffered loop (1 MiB: more round trips; 8 MiB: out of cache). */
const ASYNC_CHUNK = 2 << 20;
const freePairs: [Buffer, Buffer][] = [];

/**
 * XXH64 of a file, the fast path: double-buffered `FileHandle.read`, so the kernel copies the next
 * chunk on a thread-pool thread while this one hashes the current chunk. On an idle 2-core machine
 * that beats both the sync loop and single-threaded `xxhsum` (bench/checksum.ts); the event loop is
 * never held for more than one 2 MiB hash (a fraction of a millisecond).
 */
export async function xxh64File(file: string, options: ChecksumOptions = {}): Promise<string> {
  return (await xxh64FileDigest(file, options)).checksum;
}

/** xxh64File, with the number of bytes hashed. */
export async function xxh64FileDigest(file: string, options: ChecksumOptions = {}): Promise<FileDigest> {
  options.signal?.throwIfAborted();
  const hasher = await loadXxh64();
  const handle = await open(file, 'r');
  const bufs = freePairs.pop() ?? [pageAlignedBuffer(ASYNC_CHUNK), pageAlignedBuffer(ASYNC_CHUNK)];
  const readAt = (buf: Buffer, pos: number): Promise<number> =>
    handle.read(buf, 0, buf.length, pos).then(
      (r) => r.bytesRead,
      (err: unknown) => {
        throw unreadable(file, err);
      },
    );
  let pending: Promise<number> | undefined;
  try {
    const state = hasher.create64(0n);
    let pos = 0;
    let i = 0;
    pending = readAt(bufs[0], 0);
    for (;;) {
      const n = await pending;
      pending = undefined;
      if (n === 0) break;
      const cur = bufs[i]!;
      pos += n;
      i ^= 1;
      pending = readAt(bufs[i]!, pos);
      state.update(n === cur.length ? cur : cur.subarray(0, n));
      options.onProgress?.(pos);
      options.signal?.throwIfAborted();
    }
    return { checksum: formatChecksum(state.digest()), bytes: pos };
  } finally {
    // A read still in flight owns a buffer and the descriptor: let it land before reusing either.
    if (pending) await pending.catch(() => undefined);
    if (freePairs.length < 2) freePairs.push(bufs);
    await handle.close();
  }
}
