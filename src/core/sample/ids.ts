/** Chunk ids: a pure function of (uri, start_line), so the same tree always gets the same ids. */
import xxhash from 'xxhash-wasm';

import { InvariantViolationError } from '../errors.js';

const ID_MASK = (1n << 63n) - 1n;

export type ChunkIdHasher = (uri: string, startLine: number) => bigint;

/** XXH64 of `uri NUL start_line`, top bit cleared: non-negative int64 (FAISS uses -1 for "none"). */
export async function chunkIdHasher(): Promise<ChunkIdHasher> {
  const { h64 } = await xxhash();
  return (uri, startLine) => h64(`${uri}\0${startLine}`) & ID_MASK;
}

/**
 * Remembers every id handed out and refuses a repeat. A collision (odds about 1 in 18 million at a million
 * chunks) fails the run loudly rather than probing, which would make one chunk's id depend on
 * which other files exist.
 */
export class UniqueIds {
  private readonly owners = new Map<bigint, string>();

  claim(id: bigint, uri: string, startLine: number): bigint {
    const owner = `${uri}:${startLine}`;
    const previous = this.owners.get(id);
    if (previous !== undefined) {
      throw new InvariantViolationError(
        `chunk id ${id} of ${owner} collides with ${previous}; rename one file`,
      );
    }
    this.owners.set(id, owner);
    return id;
  }
}
