/**
 * Query vectors from a file, for `search --vector-file` and `tune --queries`: a Parquet file with an
 * embedding column (held-out chunks, or any table of vectors), a NumPy `.npy` float32 array, or raw
 * little-endian float32 (`.f32`: n x d floats back to back, as `x.astype('float32').tofile(f)`
 * writes). The format is told by the file's magic bytes, not its name. Every fault is BadInputError
 * (exit 5) naming the file and the first offending rows (0-based).
 */
import { closeSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import path from 'node:path';

import { DuckDBTypeId, type DuckDBListType } from '@duckdb/node-api';

import { BadInputError } from '../errors.js';
import { refuseNonRegular } from '../util/regular-file.js';
import { chunkViews, isValid } from '../parquet/duckdb-chunk.js';
import { describeParquet, quoteIdent, reading } from '../parquet/duckdb-source.js';
import { EXAMPLES, markNonFinite, plural } from '../parquet/validate.js';
import { isNpy, parseNpy } from './npy.js';

export type QueryFileFormat = 'parquet' | 'npy' | 'f32';

export interface QueryVectors {
  file: string;
  format: QueryFileFormat;
  rows: number;
  dim: number;
  /** rows x dim. */
  vectors: Float32Array;
}

export interface QueryFileOptions {
  /** The index dimension: every vector must have it. */
  dim: number;
  /** Parquet only; default `embedding`. */
  embeddingColumn?: string;
}

function rowList(rows: readonly number[], count: number): string {
  const more = count > rows.length ? `, ... ${count - rows.length} more` : '';
  return `first rows, 0-based: ${rows.join(', ')}${more}`;
}

function sniff(file: string): Buffer {
  refuseNonRegular(file, 'query file');
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BadInputError(
      `${file}: query file ${code === 'ENOENT' ? 'does not exist' : `cannot be opened (${code ?? String(err)})`}`,
      { cause: err },
    );
  }
  try {
    if (!statSync(file).isFile()) throw new BadInputError(`${file}: query file is not a regular file`);
    const head = Buffer.alloc(6);
    const n = readSync(fd, head, 0, head.length, 0);
    return head.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

export async function readQueryVectors(file: string, options: QueryFileOptions): Promise<QueryVectors> {
  const absolute = path.resolve(file);
  const { dim } = options;
  const head = sniff(absolute);
  let out: QueryVectors;
  if (head.subarray(0, 4).toString('latin1') === 'PAR1') {
    out = await readParquetQueries(absolute, dim, options.embeddingColumn ?? 'embedding');
  } else if (isNpy(head)) {
    const m = parseNpy(readFileSync(absolute), absolute);
    if (m.cols !== dim) {
      throw new BadInputError(`${absolute}: vectors have dimension ${m.cols}, the index has ${dim}`);
    }
    out = { file: absolute, format: 'npy', rows: m.rows, dim, vectors: m.data };
  } else {
    out = readRawQueries(absolute, dim);
  }
  if (out.rows === 0) throw new BadInputError(`${absolute}: no query vectors`);
  checkFinite(out.vectors, dim, absolute);
  return out;
}

function readRawQueries(file: string, dim: number): QueryVectors {
  const bytes = readFileSync(file);
  if (bytes.length === 0 || bytes.length % (4 * dim) !== 0) {
    throw new BadInputError(
      `${file}: ${bytes.length} bytes is not a whole number of ${dim}-float vectors; expected raw float32 ` +
        `(n x ${dim} x 4 bytes), a .npy float32 array or a Parquet file`,
    );
  }
  const vectors = new Float32Array(bytes.length / 4);
  new Uint8Array(vectors.buffer).set(bytes);
  return { file, format: 'f32', rows: vectors.length / dim, dim, vectors };
}

/** Rows holding NaN or Inf: FAISS would answer them with garbage, so they are refused. */
export function checkFinite(vectors: Float32Array, dim: number, where: string): void {
  const rows: number[] = [];
  const count = markNonFinite(vectors, dim, (row) => {
    if (rows.length < EXAMPLES) rows.push(row);
  });
  if (count > 0) {
    throw new BadInputError(
      `${where}: ${plural(count, 'query vector has', 'query vectors have')} NaN or Inf values (${rowList(rows, count)})`,
    );
  }
}

async function readParquetQueries(file: string, dim: number, column: string): Promise<QueryVectors> {
  const source = await describeParquet(file);
  try {
    const at = source.columns.findIndex((c) => c.name === column);
    if (at < 0) {
      const present = source.columns.map((c) => `${c.name} (${c.type})`).join(', ');
      throw new BadInputError(
        `${file}: no column "${column}" (--embedding-column); the file has: ${present}`,
      );
    }
    const type = source.types[at]!;
    const valueType =
      type.typeId === DuckDBTypeId.LIST ? (type as DuckDBListType).valueType.typeId : undefined;
    if (valueType !== DuckDBTypeId.FLOAT && valueType !== DuckDBTypeId.DOUBLE) {
      throw new BadInputError(
        `${file}: column "${column}" has type ${type.toString()}; expected a list of floats`,
      );
    }
    const connection = await source.instance.connect();
    try {
      const col = quoteIdent(column);
      // Layout faults first, in SQL, so the copy below can trust every row.
      const faults = await reading(file, `checking column "${column}"`, () =>
        connection.runAndReadAll(
          `SELECT file_row_number::BIGINT AS row, ${col} IS NULL AS is_null, len(${col})::BIGINT AS length
             FROM read_parquet($1, file_row_number = true)
            WHERE ${col} IS NULL OR len(${col}) <> $2 OR list_contains(list_transform(${col}, x -> x IS NULL), true)
            ORDER BY 1`,
          [source.pattern, dim],
        ),
      );
      const bad = faults.getRowObjectsJS();
      if (bad.length > 0) {
        const rows = bad.slice(0, EXAMPLES).map((r) => Number(r.row));
        const first = bad[0]!;
        const why = first.is_null
          ? 'a null embedding'
          : Number(first.length) !== dim
            ? `length ${String(first.length)}, the index has dimension ${dim}`
            : 'null values inside the embedding';
        throw new BadInputError(
          `${file}: column "${column}": ${plural(bad.length, 'row is', 'rows are')} unusable as a query ` +
            `(the first has ${why}; ${rowList(rows, bad.length)})`,
        );
      }
      const vectors = new Float32Array(source.rows * dim);
      const result = await reading(file, 'starting the scan', () =>
        connection.stream(`SELECT 0::BIGINT, ${col}::FLOAT[] FROM read_parquet($1)`, [source.pattern]),
      );
      let row = 0;
      for (;;) {
        const chunk = await reading(file, `decoding from row ${row}`, () => result.fetchChunk());
        if (chunk === null || chunk.rowCount === 0) break;
        const v = chunkViews(chunk);
        for (let i = 0; i < v.rows; i++, row++) {
          if (!isValid(v.listValidity, i)) throw new BadInputError(`${file}: row ${row}: null embedding`);
          const offset = v.entries[4 * i]!;
          vectors.set(v.values.subarray(offset, offset + dim), row * dim);
        }
      }
      return { file, format: 'parquet', rows: row, dim, vectors: vectors.subarray(0, row * dim) };
    } finally {
      connection.closeSync();
    }
  } finally {
    source.instance.closeSync();
  }
}
