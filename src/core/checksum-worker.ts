/**
 * A checksum worker thread (started by checksum-pool.ts): hashes the files it is sent one after the
 * other with xxh64File's double-buffered reads, so this thread hashes one chunk while a thread-pool
 * thread reads the next: each worker keeps two cores' worth of threads busy. Progress goes back
 * every PROGRESS_EVERY bytes, not every read.
 */
import { parentPort } from 'node:worker_threads';

import { xxh64FileDigest } from './checksum.js';
import { IndexCorruptionError } from './errors.js';
import type { PoolReply, PoolRequest, WireError } from './checksum-protocol.js';

const PROGRESS_EVERY = 64 << 20;

function wireError(err: unknown): WireError {
  const e = err as NodeJS.ErrnoException;
  return {
    corruption: err instanceof IndexCorruptionError,
    message: e instanceof Error ? e.message : String(err),
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
  };
}

const port = parentPort!;

async function hash({ id, file }: PoolRequest): Promise<PoolReply> {
  let reported = 0;
  try {
    const digest = await xxh64FileDigest(file, {
      onProgress: (bytes) => {
        if (bytes - reported < PROGRESS_EVERY) return;
        reported = bytes;
        port.postMessage({ id, progress: bytes } satisfies PoolReply);
      },
    });
    return { id, digest };
  } catch (err) {
    return { id, error: wireError(err) };
  }
}

// The pool sends one file at a time and the next only after the reply, so requests never overlap.
port.on('message', (request: PoolRequest) => {
  void hash(request).then((reply) => port.postMessage(reply));
});
