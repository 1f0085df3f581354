/**
 * A checksum worker thread (started by checksum-pool.ts): hashes one file at a time with plain
 * synchronous reads, the fastest loop measured (docs/PERFORMANCE.md), since this thread has no event
 * loop to keep responsive. Progress goes back every PROGRESS_EVERY bytes, not every read.
 */
import { parentPort } from 'node:worker_threads';

import { xxh64FileDigestSync } from './checksum.js';
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
port.on('message', ({ id, file }: PoolRequest) => {
  let reported = 0;
  let reply: PoolReply;
  try {
    const digest = xxh64FileDigestSync(file, (bytes) => {
      if (bytes - reported < PROGRESS_EVERY) return;
      reported = bytes;
      port.postMessage({ id, progress: bytes } satisfies PoolReply);
    });
    reply = { id, digest };
  } catch (err) {
    reply = { id, error: wireError(err) };
  }
  port.postMessage(reply);
});
