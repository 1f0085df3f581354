/**
 * File checksums: XXH64 with seed 0, written `xxh64:<16 lowercase hex>`, the hex being the canonical
 * (big-endian) digest exactly as `xxhsum -H1 FILE` prints it, so an operator can check a file by hand.
 *
 * Speed comes from how the file is read, not from the hash (MEASUREMENTS.md): one reused 1 MiB
 * buffer filled by `readSync` keeps both the buffer and xxhash-wasm's copy of it in cache; streams
 * are 7x slower. See bench/checksum.ts for the figures.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import xxhash from 'xxhash-wasm';

import { IndexCorruptionError } from './errors.js';

export type Xxh64Api = Awaited<ReturnType<typeof xxhash>>;

const PREFIX = 'xxh64:';
const CHECKSUM_RE = /^xxh64:[0-9a-f]{16}$/;
export const checksumPattern = CHECKSUM_RE;

/** 1 MiB measured fastest for the synchronous loop (4 MiB: -4%, 16 MiB: -26%). */
const SYNC_CHUNK = 1 << 20;
/** Hash this much between yields to the event loop: a few milliseconds of work. */
const YIELD_EVERY = 16 << 20;

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

// Buffers are reused across calls: fresh memory costs more to touch than hashing it (MEASUREMENTS.md).
const freeBuffers: Buffer[] = [];
function takeBuffer(): Buffer {
  return freeBuffers.pop() ?? Buffer.allocUnsafe(SYNC_CHUNK);
}
function giveBuffer(buf: Buffer): void {
  if (freeBuffers.length < 4) freeBuffers.push(buf);
}

function unreadable(file: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  // A missing or unreadable file is the caller's to classify when it is ENOENT (files.present);
  // an I/O error while reading is a damaged file.
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') return err as Error;
  return new IndexCorruptionError(`${file}: read failed while checksumming: ${(err as Error).message}`, {
    cause: err,
  });
}

/**
 * XXH64 of a file, synchronously: the fastest path, for when nothing else needs the event loop.
 * Needs the wasm instance from `await loadXxh64()`.
 */
export function xxh64FileSync(file: string, hasher: Xxh64Api): string {
  const fd = openSync(file, 'r');
  const buf = takeBuffer();
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
    }
    return formatChecksum(state.digest());
  } finally {
    giveBuffer(buf);
    closeSync(fd);
  }
}

export interface ChecksumOptions {
  /** Called after each chunk with bytes hashed so far (for a progress bar). */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
}

/**
 * XXH64 of a file without holding the event loop for more than a few milliseconds: the same
 * reused-buffer `readSync` loop as the sync version, yielding every 16 MiB. On page-cached files it
 * matches the sync speed; double-buffered `FileHandle.read` measured slower (bench/checksum.ts),
 * because each read is a thread-pool round trip and a fresh result buffer.
 */
export async function xxh64File(file: string, options: ChecksumOptions = {}): Promise<string> {
  options.signal?.throwIfAborted();
  const hasher = await loadXxh64();
  // Opening through the promise API keeps ENOENT/EACCES errors identical to the rest of fs/promises.
  const handle = await open(file, 'r');
  const buf = takeBuffer();
  try {
    const state = hasher.create64(0n);
    let pos = 0;
    let sinceYield = 0;
    for (;;) {
      let n: number;
      try {
        n = readSync(handle.fd, buf, 0, buf.length, pos);
      } catch (err) {
        throw unreadable(file, err);
      }
      if (n === 0) break;
      state.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
      sinceYield += n;
      if (sinceYield >= YIELD_EVERY) {
        sinceYield = 0;
        options.onProgress?.(pos);
        await new Promise<void>((resolve) => setImmediate(resolve));
        options.signal?.throwIfAborted();
      }
    }
    options.onProgress?.(pos);
    return formatChecksum(state.digest());
  } finally {
    giveBuffer(buf);
    await handle.close();
  }
}
