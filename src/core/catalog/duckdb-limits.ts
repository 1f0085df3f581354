/**
 * Resource limits for every DuckDB instance indexctl opens (ingestion, catalog build, verify, search,
 * library handles). DuckDB's own defaults are 80% of RAM and every core, per instance: a cron build or
 * a verify on a shared host would take the machine. The defaults here are conservative and a caller
 * (the CLI's --duckdb-memory / --duckdb-threads, INDEXCTL_DUCKDB_MEMORY / INDEXCTL_DUCKDB_THREADS,
 * read at the CLI edge; a library caller's `duckdb` option) may set them.
 *
 * Within a build's --memory-budget: FAISS's peak is estimated by the build plan, and DuckDB gets at
 * most what that leaves (see limitsWithinBudget). DuckDB's memory_limit bounds its buffer manager
 * (hash tables, sorts, the catalog's index build); work beyond it spills to temp_directory, and
 * what cannot spill fails with "Out of Memory Error: ... (X/Y used)", which names the limit.
 */
import { availableParallelism, totalmem } from 'node:os';

import { formatBytes, parseSize } from '../util/units.js';
import { BadInputError, UsageError } from '../errors.js';

export interface DuckDBLimits {
  /** DuckDB memory_limit: bytes, or a size such as "512MB", "1GiB" (binary units either way). */
  memoryLimit?: string | number;
  /** DuckDB worker threads. */
  threads?: number;
}

/** Below this DuckDB cannot decode a Parquet row group of embeddings or build the catalog's index. */
export const MIN_DUCKDB_MEMORY = 64 * 1024 ** 2;
/** The default cap: 1 GiB, or a quarter of RAM on a small machine. */
export const DEFAULT_DUCKDB_MEMORY = Math.max(
  MIN_DUCKDB_MEMORY,
  Math.min(1024 ** 3, Math.floor(totalmem() / 4)),
);
/** Up to 4 threads: enough to keep Parquet decoding ahead of FAISS, not every core of a shared host. */
export const DEFAULT_DUCKDB_THREADS = Math.max(1, Math.min(4, availableParallelism()));

export interface ResolvedDuckDBLimits {
  memoryBytes: number;
  threads: number;
}

/** Validates and fills in the defaults; a bad value is UsageError naming it (exit 2). */
export function resolveDuckDBLimits(limits: DuckDBLimits = {}): ResolvedDuckDBLimits {
  let memoryBytes = DEFAULT_DUCKDB_MEMORY;
  const m = limits.memoryLimit;
  if (typeof m === 'number') memoryBytes = m;
  else if (typeof m === 'string') {
    try {
      memoryBytes = parseSize(m);
    } catch {
      throw new UsageError(
        `DuckDB memory limit: cannot read ${JSON.stringify(m)} as a size (e.g. 512MB, 2G)`,
      );
    }
  }
  if (!Number.isSafeInteger(memoryBytes) || memoryBytes < MIN_DUCKDB_MEMORY) {
    throw new UsageError(
      `DuckDB memory limit must be at least ${formatBytes(MIN_DUCKDB_MEMORY)}, got ${JSON.stringify(m)}`,
    );
  }
  const threads = limits.threads ?? DEFAULT_DUCKDB_THREADS;
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 1024) {
    throw new UsageError(`DuckDB threads must be an integer in [1, 1024], got ${String(threads)}`);
  }
  return { memoryBytes, threads };
}

/**
 * The DuckDB limits a build runs with under `--memory-budget B`, where FAISS is planned to peak at
 * `faissPeak`: DuckDB's memory_limit defaults to min(the default, B - faissPeak), at least the
 * minimum; a limit given explicitly must fit next to FAISS, else UsageError (exit 2) naming both.
 */
export function limitsWithinBudget(
  limits: DuckDBLimits | undefined,
  budgetBytes: number | undefined,
  faissPeakBytes: number,
): DuckDBLimits {
  if (budgetBytes === undefined) return limits ?? {};
  const left = budgetBytes - faissPeakBytes;
  if (limits?.memoryLimit === undefined) {
    return { ...limits, memoryLimit: Math.max(MIN_DUCKDB_MEMORY, Math.min(DEFAULT_DUCKDB_MEMORY, left)) };
  }
  const { memoryBytes } = resolveDuckDBLimits(limits);
  if (memoryBytes > left) {
    throw new UsageError(
      `--duckdb-memory ${formatBytes(memoryBytes)} and the FAISS plan's ${formatBytes(faissPeakBytes)} peak ` +
        `exceed --memory-budget ${formatBytes(budgetBytes)}: lower --duckdb-memory to at most ` +
        `${formatBytes(Math.max(0, left))} or raise the budget`,
    );
  }
  return limits;
}

/**
 * DuckDB configuration for DuckDBInstance.create: memory_limit, threads and, for a build, the
 * temp_directory (inside the staging directory, so what DuckDB spills is removed with it).
 */
export function duckdbSettings(limits: DuckDBLimits = {}, tempDirectory?: string): Record<string, string> {
  const { memoryBytes, threads } = resolveDuckDBLimits(limits);
  return {
    memory_limit: `${memoryBytes}B`,
    threads: String(threads),
    ...(tempDirectory !== undefined ? { temp_directory: tempDirectory } : {}),
  };
}

/** DuckDB hit its memory limit: bad input for that limit (exit 5). */
export class DuckDBMemoryError extends BadInputError {}

/**
 * DuckDB's "Out of Memory Error" as bad input naming the limit it hit (exit 5): the data did not fit
 * the limit the operator set (or the default), which is for them to raise. Anything else: undefined.
 */
export function outOfMemory(
  err: unknown,
  limits: DuckDBLimits | undefined,
  doing: string,
): DuckDBMemoryError | undefined {
  const text = err instanceof Error ? err.message : String(err);
  if (!/Out of Memory Error/i.test(text)) return undefined;
  const { memoryBytes } = resolveDuckDBLimits(limits);
  return new DuckDBMemoryError(
    `DuckDB ran out of memory ${doing} under its memory limit of ${formatBytes(memoryBytes)}: raise ` +
      `--duckdb-memory (INDEXCTL_DUCKDB_MEMORY, the library's duckdb.memoryLimit): ${text.split('\n')[0]}`,
    { cause: err },
  );
}
