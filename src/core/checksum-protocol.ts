/** Messages between checksum-pool.ts and its worker threads (checksum-worker.ts). */
import type { FileDigest } from './checksum.js';

export interface PoolRequest {
  id: number;
  file: string;
}

/** An error crosses the thread as data: its class (corruption or not), message and errno code. */
export interface WireError {
  corruption: boolean;
  message: string;
  code?: string;
}

export type PoolReply =
  { id: number; progress: number } | { id: number; digest: FileDigest } | { id: number; error: WireError };
