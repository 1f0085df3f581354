/**
 * The checks a chunks file must pass, each failing with a BadInputError that names the file, the
 * column, the first offending ids (or row numbers when there is no id to name) and how many.
 */
import { openSync, closeSync, fstatSync, readSync } from 'node:fs';

import { DuckDBTypeId, type DuckDBConnection, type DuckDBListType, type DuckDBType } from '@duckdb/node-api';

import { BadInputError } from '../errors.js';
import { refuseNonRegular } from '../util/regular-file.js';
import { quoteIdent, type ParquetSource } from './duckdb-source.js';
import { nonFiniteRows } from '../util/row-kernels.js';

/** How many offending ids a message names. */
export const EXAMPLES = 5;

const MAGIC = 'PAR1';

/** Refuses a missing file, a directory, and anything without Parquet's magic at both ends. */
export function assertParquetFile(file: string): void {
  refuseNonRegular(file, 'chunks file');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(err)})`;
    throw new BadInputError(`${file}: chunks file ${why}`, { cause: err });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new BadInputError(`${file}: not a Parquet file (not a regular file)`);
    if (stat.size < 12) {
      throw new BadInputError(
        `${file}: not a Parquet file (${stat.size} bytes, too short for a header and footer)`,
      );
    }
    const head = Buffer.alloc(4);
    const tail = Buffer.alloc(4);
    readSync(fd, head, 0, 4, 0);
    readSync(fd, tail, 0, 4, stat.size - 4);
    if (head.toString('latin1') !== MAGIC || tail.toString('latin1') !== MAGIC) {
      const which = head.toString('latin1') !== MAGIC ? 'at its start' : 'at its end (truncated?)';
      throw new BadInputError(`${file}: not a Parquet file (no PAR1 magic ${which})`);
    }
  } finally {
    closeSync(fd);
  }
}

const INTEGER_IDS = new Set<DuckDBTypeId>([
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UTINYINT,
]);

/**
 * Column presence and types. Ids may be any integer type that widens to int64 without loss;
 * embeddings must be lists of FLOAT (Arrow `List<Float32>` and `FixedSizeList<Float32>` both read
 * that way, since Parquet stores fixed-size lists as lists).
 */
export function checkColumns(source: ParquetSource, idColumn: string, embeddingColumn: string): void {
  const { file, columns } = source;
  const index = (name: string): number => columns.findIndex((c) => c.name === name);
  const missing = [idColumn, embeddingColumn].filter((name) => index(name) < 0);
  if (missing.length > 0) {
    const which = missing.map((m) => `"${m}"`).join(' and ');
    const present = columns.map((c) => `${c.name} (${c.type})`).join(', ');
    throw new BadInputError(`${file}: missing column ${which}; the file has: ${present || 'no columns'}`);
  }
  const idType = source.types[index(idColumn)]!;
  if (!INTEGER_IDS.has(idType.typeId)) {
    throw new BadInputError(
      `${file}: column "${idColumn}" has type ${idType.toString()}; expected int64 (BIGINT) or a narrower integer`,
    );
  }
  const embeddingType: DuckDBType = source.types[index(embeddingColumn)]!;
  const isFloatList =
    embeddingType.typeId === DuckDBTypeId.LIST &&
    (embeddingType as DuckDBListType).valueType.typeId === DuckDBTypeId.FLOAT;
  if (!isFloatList) {
    throw new BadInputError(
      `${file}: column "${embeddingColumn}" has type ${embeddingType.toString()}; ` +
        'expected a list of float32 (FLOAT[]: Arrow List<Float32> or FixedSizeList<Float32>)',
    );
  }
}

export function checkNotEmpty(source: ParquetSource): void {
  if (source.rows === 0) throw new BadInputError(`${source.file}: the chunks file has no rows`);
}

/**
 * Null, negative and duplicate ids over the whole file, in SQL on the id column alone (cheap next to
 * the embeddings), before any vector is read, so a build never starts on ids it would have to refuse.
 */
export async function checkIds(
  connection: DuckDBConnection,
  source: ParquetSource,
  idColumn: string,
): Promise<void> {
  const id = quoteIdent(idColumn);
  const from = `read_parquet($1, file_row_number = true)`;
  const summary = await connection.runAndReadAll(
    `SELECT count(*) FILTER (WHERE ${id} IS NULL), count(*) FILTER (WHERE ${id} < 0),
            count(${id}) - count(DISTINCT ${id}) FROM ${from}`,
    [source.pattern],
  );
  const [nulls, negatives, extra] = (summary.getRows()[0] ?? []).map(Number) as [number, number, number];
  const where = `${source.file}: column "${idColumn}"`;
  if (nulls > 0) {
    const rows = await column(
      connection,
      `SELECT file_row_number FROM ${from} WHERE ${id} IS NULL ORDER BY file_row_number LIMIT ${EXAMPLES}`,
      source.pattern,
    );
    throw new BadInputError(
      `${where}: ${plural(nulls, 'row has a null id', 'rows have a null id')} (${rowList(rows, nulls)})`,
    );
  }
  if (negatives > 0) {
    const ids = await column(
      connection,
      `SELECT CAST(${id} AS BIGINT) FROM ${from} WHERE ${id} < 0 ORDER BY file_row_number LIMIT ${EXAMPLES}`,
      source.pattern,
    );
    throw new BadInputError(
      `${where}: ${plural(negatives, 'row has a negative id', 'rows have negative ids')} (${idList(ids, negatives)}); ` +
        'ids must be >= 0 (FAISS uses -1 for "no result")',
    );
  }
  if (extra > 0) {
    const dup = await connection.runAndReadAll(
      `SELECT CAST(${id} AS BIGINT), count(*) FROM ${from} GROUP BY ${id} HAVING count(*) > 1
         ORDER BY min(file_row_number) LIMIT ${EXAMPLES}`,
      [source.pattern],
    );
    const distinct = await connection.runAndReadAll(
      `SELECT count(*) FROM (SELECT 1 FROM ${from} GROUP BY ${id} HAVING count(*) > 1)`,
      [source.pattern],
    );
    const ids = Number(distinct.getRows()[0]?.[0] ?? 0);
    const examples = dup.getRows().map(([value, n]) => `${String(value)} (${String(n)} rows)`);
    const more = ids > examples.length ? `, ... ${ids - examples.length} more` : '';
    throw new BadInputError(
      `${where}: ${plural(ids, 'id occurs', 'ids occur')} more than once (${extra} extra rows; first: ${examples.join(', ')}${more})`,
    );
  }
}

async function column(connection: DuckDBConnection, sql: string, pattern: string): Promise<bigint[]> {
  const result = await connection.runAndReadAll(sql, [pattern]);
  return result.getRows().map((row) => BigInt(row[0] as bigint | number));
}

/** The kinds of bad rows found while the vectors stream, each counted over the whole file. */
export type BadRowKind = 'null' | 'dimension' | 'nullValue' | 'nonFinite' | 'zero';

/**
 * Collects bad rows during a pass so the error can name the first ids and the total count, whatever
 * batch they came in. The first kind seen is the one reported.
 */
export class BadRows {
  private readonly seen = new Map<BadRowKind, { count: number; ids: bigint[]; dims: Set<number> }>();

  get any(): boolean {
    return this.seen.size > 0;
  }

  add(kind: BadRowKind, id: bigint, length?: number): void {
    let entry = this.seen.get(kind);
    if (!entry) {
      entry = { count: 0, ids: [], dims: new Set() };
      this.seen.set(kind, entry);
    }
    entry.count++;
    if (entry.ids.length < EXAMPLES) entry.ids.push(id);
    if (length !== undefined && entry.dims.size < EXAMPLES) entry.dims.add(length);
  }

  /** Every kind found, in the order first seen, as one error; undefined when the pass was clean. */
  error(file: string, column: string, dim: number): BadInputError | undefined {
    if (this.seen.size === 0) return undefined;
    const parts = [...this.seen].map(([kind, { count, ids, dims }]) => {
      const which = idList(ids, count);
      switch (kind) {
        case 'null':
          return `${plural(count, 'row has a null embedding', 'rows have null embeddings')} (${which})`;
        case 'dimension':
          return (
            `mixed dimensions: ${plural(count, 'row has', 'rows have')} a length other than ${dim}, the first row's ` +
            `(found ${[...dims].join(', ')}; ${which})`
          );
        case 'nullValue':
          return `${plural(count, 'row has', 'rows have')} null values inside the embedding (${which})`;
        case 'nonFinite':
          return `${plural(count, 'row has', 'rows have')} NaN or Inf values (${which})`;
        case 'zero':
          return `${plural(count, 'row has', 'rows have')} an all-zero embedding, which cosine cannot normalize (${which})`;
      }
    });
    return new BadInputError(`${file}: column "${column}": ${parts.join('; ')}`);
  }
}

/** Marks every row of `values` (rows x dim) holding a NaN or +-Inf; returns how many were marked. */
export function markNonFinite(values: Float32Array, dim: number, onRow: (row: number) => void): number {
  const rows = nonFiniteRows(values, dim);
  for (const row of rows) onRow(row);
  return rows.length;
}

export function idList(ids: readonly bigint[], count: number): string {
  const more = count > ids.length ? `, ... ${count - ids.length} more` : '';
  return `first ids: ${ids.map(String).join(', ')}${more}`;
}

function rowList(rows: readonly bigint[], count: number): string {
  const more = count > rows.length ? `, ... ${count - rows.length} more` : '';
  return `first rows, 0-based: ${rows.map(String).join(', ')}${more}`;
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * No id in two files of a dataset (each file's own duplicates were refused before): one GROUP BY
 * over the id columns of every file, naming the first ids with the two files each is in.
 */
export async function checkIdsAcrossFiles(
  connection: DuckDBConnection,
  sources: readonly ParquetSource[],
  idColumn: string,
  label: string,
): Promise<void> {
  const id = quoteIdent(idColumn);
  const patterns = sources.map((s) => `'${s.pattern.replaceAll("'", "''")}'`).join(', ');
  // file_index: DuckDB's virtual column, the 0-based position of the row's file in the list.
  const dup = `SELECT CAST(${id} AS BIGINT) AS id, min(file_index) AS a, max(file_index) AS b
      FROM read_parquet([${patterns}]) GROUP BY ${id} HAVING count(*) > 1`;
  const count = await connection.runAndReadAll(`SELECT count(*) FROM (${dup})`);
  const ids = Number(count.getRows()[0]?.[0] ?? 0);
  if (ids === 0) return;
  const first = await connection.runAndReadAll(`${dup} ORDER BY a, b, id LIMIT ${EXAMPLES}`);
  const examples = first
    .getRows()
    .map(
      ([value, a, b]) => `${String(value)} in ${sources[Number(a)]!.file} and ${sources[Number(b)]!.file}`,
    );
  const more = ids > examples.length ? `, ... ${ids - examples.length} more` : '';
  throw new BadInputError(
    `${label}: column "${idColumn}": ${plural(ids, 'id occurs', 'ids occur')} in more than one file of the dataset ` +
      `(${examples.join('; ')}${more}); an id belongs to one row`,
  );
}
