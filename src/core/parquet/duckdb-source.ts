/**
 * DuckDB over one Parquet file: an in-memory instance, the file's path as `read_parquet` must see it,
 * and the file's metadata (rows, row groups, columns with their types).
 */
import path from 'node:path';

import { DuckDBInstance, type DuckDBConnection, type DuckDBType } from '@duckdb/node-api';

import { duckdbSettings, outOfMemory, type DuckDBLimits } from '../catalog/duckdb-limits.js';
import { BadInputError, IndexctlError } from '../errors.js';

export interface ParquetColumn {
  name: string;
  /** DuckDB's name for the type as read from Parquet, e.g. `BIGINT`, `FLOAT[]`, `VARCHAR`. */
  type: string;
}

export interface ParquetSource {
  /** Absolute path, as given to the user in messages. */
  file: string;
  /** The path bound to `read_parquet`, with glob metacharacters made literal. */
  pattern: string;
  rows: number;
  rowGroups: number;
  /** Rows in the largest row group. */
  maxRowGroupRows: number;
  /** Rows of each row group, in file order. */
  rowGroupSizes: number[];
  columns: ParquetColumn[];
  types: DuckDBType[];
  instance: DuckDBInstance;
  /** The limits the instance was opened with (named in an out-of-memory error). */
  limits?: DuckDBLimits;
}

/**
 * Extensions are never installed or loaded behind our back: Parquet is built in and the tool must
 * work offline. Memory and threads are limited (duckdb-limits.ts).
 */
export async function openDuckDB(limits?: DuckDBLimits): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    ...duckdbSettings(limits),
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  });
}

/** Reads the footer through DuckDB; a file DuckDB cannot parse is bad input. */
export async function describeParquet(file: string, limits?: DuckDBLimits): Promise<ParquetSource> {
  const instance = await openDuckDB(limits);
  try {
    return await describeWith(instance, file, limits);
  } catch (err) {
    instance.closeSync();
    throw err;
  }
}

/** The same over an instance the caller owns (one for every file of a dataset); it stays open. */
export async function describeWith(
  instance: DuckDBInstance,
  file: string,
  limits?: DuckDBLimits,
): Promise<ParquetSource> {
  const absolute = path.resolve(file);
  const pattern = globLiteral(absolute);
  try {
    const connection = await instance.connect();
    try {
      const meta = await connection.runAndReadAll(
        'SELECT num_rows, num_row_groups FROM parquet_file_metadata($1)',
        [pattern],
      );
      const [numRows, numRowGroups] = meta.getRows()[0] ?? [];
      const groups = await connection.runAndReadAll(
        'SELECT row_group_id, max(row_group_num_rows) FROM parquet_metadata($1) GROUP BY row_group_id ORDER BY row_group_id',
        [pattern],
      );
      const sizes = groups.getRows().map((row) => Number(row[1]));
      const schema = await connection.run('SELECT * FROM read_parquet($1) LIMIT 0', [pattern]);
      const types = schema.columnTypes();
      const names = schema.columnNames();
      return {
        file: absolute,
        pattern,
        rows: Number(numRows),
        rowGroups: Number(numRowGroups),
        maxRowGroupRows: Math.max(0, ...sizes),
        rowGroupSizes: sizes,
        columns: names.map((name, i) => ({ name, type: types[i]!.toString() })),
        types,
        instance,
        ...(limits ? { limits } : {}),
      };
    } finally {
      connection.closeSync();
    }
  } catch (err) {
    throw new BadInputError(`${absolute}: cannot be read as Parquet: ${firstLine(err)}`, { cause: err });
  }
}

/** `"name"` with embedded quotes doubled: column names are identifiers and cannot be bound. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `read_parquet` treats its argument as a glob, so `*`, `?` and `[` become one-character classes.
 * DuckDB's glob cannot escape a backslash inside such a pattern, so that one case is refused.
 */
export function globLiteral(file: string): string {
  if (!/[*?[]/.test(file)) return file;
  if (file.includes('\\')) {
    throw new BadInputError(
      `${file}: a path with both a backslash and one of * ? [ cannot be expressed to DuckDB's read_parquet; rename the file`,
    );
  }
  return file.replace(/[*?[]/g, (ch) => `[${ch}]`);
}

/**
 * Runs DuckDB work over the file: DuckDB's own failures (a corrupt page, a bad footer) become bad
 * input naming the file and what was being done; our own errors pass through.
 */
export async function reading<T>(
  file: string,
  doing: string,
  work: () => Promise<T>,
  limits?: DuckDBLimits,
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof IndexctlError) throw err;
    const oom = outOfMemory(err, limits, `reading ${file} (${doing})`);
    if (oom) throw oom;
    throw new BadInputError(`${file}: cannot be read (${doing}): ${firstLine(err)}`, { cause: err });
  }
}

export function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}

export type { DuckDBConnection };
