/**
 * Telling DuckDB's "this file is damaged" from its other errors. DuckDB stores a checksum in every
 * block of a database file (and in each of its headers) and checks it whenever the block is read, so
 * a flipped byte surfaces as `IO Error: Corrupt database file: computed checksum ... in block at
 * location N`, however long after opening that block is first needed; a truncated file as `Could not
 * read enough bytes from file`. Those are damage to catalog.duckdb (IndexCorruptionError, exit 4);
 * every other DuckDB error (a bad query, out of memory, an internal error) keeps its meaning.
 */
import { IndexCorruptionError } from '../errors.js';

const CORRUPTION = [
  /Corrupt database file/i,
  /Could not read enough bytes from file/i,
  /is not a valid DuckDB database file/i,
  // The block checksums passed but what they protect does not decode (a file sealed damaged).
  /Failed to deserialize/i,
];

export function isDuckDbCorruption(err: unknown): boolean {
  if (!(err instanceof Error) || err instanceof IndexCorruptionError) return false;
  return CORRUPTION.some((pattern) => pattern.test(err.message));
}

/**
 * `err` as the corruption of `file` when DuckDB says the file is damaged, its message prefixed by
 * the file and what was being done; otherwise `err` itself.
 */
export function asCatalogCorruption(file: string, err: unknown, doing = 'damaged'): unknown {
  if (!isDuckDbCorruption(err)) return err;
  const firstLine = (err as Error).message.split('\n')[0]!;
  return new IndexCorruptionError(`${file}: ${doing}: ${firstLine}`, { cause: err });
}

/** Runs one DuckDB call on the catalog at `file`, reporting damage to the file as corruption. */
export async function readingCatalog<T>(file: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw asCatalogCorruption(file, err);
  }
}
