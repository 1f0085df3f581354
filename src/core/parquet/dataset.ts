/**
 * `--chunks` as a dataset: one Parquet file, a directory (every `*.parquet` directly in it) or a
 * glob, resolved to an ordered list of files. The order is the dataset's row order: FAISS rows, the
 * version's one `chunks.parquet` and the shard split all follow it, so it must not depend on the
 * filesystem's listing order: names are sorted by their UTF-8 bytes (what `LC_ALL=C ls` prints).
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { BadInputError } from '../errors.js';
import { asEnvironmentIoError } from '../util/env-io.js';
import { globLiteral, openDuckDB, reading } from './duckdb-source.js';

export interface Dataset {
  /** The argument made absolute: a file, a directory or a glob pattern. */
  source: string;
  kind: 'file' | 'directory' | 'glob';
  /** Absolute paths in dataset order (one for a file). */
  files: string[];
}

const GLOB_CHARS = /[*?[]/;

/**
 * A path that exists is taken as it is (a file named `a*.parquet` is that file); only a path that
 * does not exist and holds `*`, `?` or `[` is a glob. A missing plain path is returned as a one-file
 * dataset, so the reader reports it exactly as it always has (exit 5, "chunks file does not exist").
 */
export async function resolveDataset(arg: string, limits?: DuckDBLimits): Promise<Dataset> {
  const source = path.resolve(arg);
  const stat = statSync(source, { throwIfNoEntry: false });
  if (stat?.isDirectory()) return { source, kind: 'directory', files: listDirectory(source) };
  if (stat || !GLOB_CHARS.test(arg)) return { source, kind: 'file', files: [source] };
  return { source, kind: 'glob', files: await expandGlob(source, limits) };
}

/**
 * Not recursive, and names starting with "." are skipped as a shell's `*` skips them (writers stage
 * their part files under such names). Anything else named `*.parquet` is in the set, and one that is
 * not a regular file is then refused by name like a single file.
 */
function listDirectory(dir: string): string[] {
  const names = readdirSync(dir).filter((n) => n.endsWith('.parquet') && !n.startsWith('.'));
  if (names.length === 0) {
    throw new BadInputError(`${dir}: the chunks directory has no *.parquet files`);
  }
  return byteOrder(names).map((n) => path.join(dir, n));
}

/** DuckDB's glob(): `*`, `?`, `[...]` within a name, `**` across directories. */
async function expandGlob(pattern: string, limits?: DuckDBLimits): Promise<string[]> {
  const files = await reading(
    pattern,
    'expanding the glob',
    async () => {
      const instance = await openDuckDB(limits);
      try {
        const connection = await instance.connect();
        try {
          const result = await connection.runAndReadAll('SELECT file FROM glob($1)', [pattern]);
          return result.getRows().map((row) => String(row[0]));
        } finally {
          connection.closeSync();
        }
      } finally {
        instance.closeSync();
      }
    },
    limits,
  );
  if (files.length === 0) throw new BadInputError(`${pattern}: the chunks glob matches no file`);
  return byteOrder([...new Set(files.map((f) => path.resolve(f)))]);
}

function byteOrder(names: string[]): string[] {
  return names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/**
 * Several files become the version's one `chunks.parquet`: DuckDB copies their rows in dataset order
 * (insertion order is preserved, which the tests check row by row), under the caller's DuckDB limits,
 * spilling where the caller says (a build's staging directory, removed with it).
 */
export async function writeDatasetFile(
  files: readonly string[],
  to: string,
  options: { limits?: DuckDBLimits; spillDirectory?: string; label?: string; signal?: AbortSignal } = {},
): Promise<void> {
  const list = files.map((f) => sqlString(globLiteral(f))).join(', ');
  const label = options.label ?? `${files[0]!} (${files.length} files)`;
  const { signal } = options;
  signal?.throwIfAborted();
  const instance = await openDuckDB(options.limits);
  try {
    const connection = await instance.connect();
    // A cancellation must not wait for a COPY of gigabytes: DuckDB stops it between vectors.
    const interrupt = (): void => connection.interrupt();
    signal?.addEventListener('abort', interrupt, { once: true });
    try {
      await connection.run('SET preserve_insertion_order = true');
      if (options.spillDirectory)
        await connection.run(`SET temp_directory = ${sqlString(options.spillDirectory)}`);
      // A full or read-only disk is the environment (exit 74); a file that cannot be read, bad input.
      await reading(
        label,
        `writing its rows into ${to}`,
        async () => {
          try {
            await connection.run(
              `COPY (SELECT * FROM read_parquet([${list}])) TO ${sqlString(to)} (FORMAT parquet, COMPRESSION snappy)`,
            );
          } catch (err) {
            throw asEnvironmentIoError(err, `cannot write ${to}`, to) ?? err;
          }
        },
        options.limits,
      );
    } catch (err) {
      // Interrupted: the cancellation, not a finding about the files.
      if (signal?.aborted) throw signal.reason;
      throw err;
    } finally {
      signal?.removeEventListener('abort', interrupt);
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** A single-quoted SQL literal: COPY's target and read_parquet's list cannot be bound parameters. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}
