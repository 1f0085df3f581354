/**
 * Reads idmap.parquet back (for verify, adoption and tests) into two preallocated BigInt64Arrays.
 * A file that is not a readable idmap is corruption: indexctl wrote it.
 *
 * Read through DuckDB, not parquet-wasm: a damaged page made parquet-wasm panic inside a callback
 * of its async reader ("RuntimeError: unreachable" thrown from a microtask no promise of ours
 * awaits), which ended the process with exit 1 whatever the caller caught (the mutation test found
 * it). DuckDB reports a damaged page, footer or checksum as an error of the query.
 */
import { stat } from 'node:fs/promises';

import { IndexCorruptionError, IndexctlError } from '../errors.js';
import { anyInvalid, int64Column } from './duckdb-chunk.js';
import { firstLine, globLiteral, openDuckDB } from './duckdb-source.js';
import { IDMAP_COLUMNS } from './idmap-writer.js';

export interface IdMap {
  faissRow: BigInt64Array;
  externalId: BigInt64Array;
}

export async function readIdMap(file: string): Promise<IdMap> {
  let pattern: string;
  try {
    pattern = globLiteral(file);
  } catch (err) {
    throw new IndexCorruptionError(`${file}: cannot be read: ${firstLine(err)}`, { cause: err });
  }
  const instance = await openDuckDB();
  try {
    const connection = await instance.connect();
    try {
      return await readColumns(connection, file, pattern);
    } finally {
      connection.closeSync();
    }
  } catch (err) {
    if (err instanceof IndexctlError) throw err;
    throw new IndexCorruptionError(`${file}: not a readable idmap: ${firstLine(err)}`, { cause: err });
  } finally {
    instance.closeSync();
  }
}

type Connection = Awaited<ReturnType<Awaited<ReturnType<typeof openDuckDB>>['connect']>>;

async function readColumns(connection: Connection, file: string, pattern: string): Promise<IdMap> {
  let n: number;
  try {
    const meta = await connection.runAndReadAll('SELECT num_rows FROM parquet_file_metadata($1)', [pattern]);
    n = Number(meta.getRows()[0]?.[0] ?? 0);
  } catch (err) {
    throw new IndexCorruptionError(`${file}: cannot be read as Parquet: ${firstLine(err)}`, { cause: err });
  }
  const schema = await connection.run('SELECT * FROM read_parquet($1) LIMIT 0', [pattern]);
  const names = schema.columnNames();
  const types = schema.columnTypes().map(String);
  for (const name of IDMAP_COLUMNS) {
    const at = names.indexOf(name);
    if (at < 0) {
      throw new IndexCorruptionError(`${file}: idmap has no column "${name}" (columns: ${names.join(', ')})`);
    }
    if (types[at] !== 'BIGINT') {
      throw new IndexCorruptionError(`${file}: idmap column "${name}" has type ${types[at]}, expected Int64`);
    }
  }
  // Two unique int64 columns cannot take under a byte per row, whatever the encoding: a footer
  // claiming more rows than that is damage, refused before the arrays are allocated.
  const bytes = (await stat(file)).size;
  if (!Number.isSafeInteger(n) || n < 0 || n > bytes * 8) {
    throw new IndexCorruptionError(`${file}: the footer claims ${n} rows, more than ${bytes} bytes can hold`);
  }
  const faissRow = new BigInt64Array(n);
  const externalId = new BigInt64Array(n);
  // A plain scan keeps the file's row order (DuckDB preserves insertion order by default).
  const result = await connection.stream('SELECT faiss_row, external_id FROM read_parquet($1)', [pattern]);
  let offset = 0;
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    const rows = chunk.rowCount;
    if (offset + rows > n) {
      throw new IndexCorruptionError(`${file}: the footer says ${n} rows but more were read`);
    }
    for (const [index, name, into] of [
      [0, 'faiss_row', faissRow],
      [1, 'external_id', externalId],
    ] as const) {
      const column = int64Column(chunk, index);
      if (anyInvalid(column.validity, 0, rows)) {
        throw new IndexCorruptionError(`${file}: idmap column "${name}" has nulls`);
      }
      into.set(column.values.subarray(0, rows), offset);
    }
    offset += rows;
  }
  if (offset !== n)
    throw new IndexCorruptionError(`${file}: the footer says ${n} rows but ${offset} were read`);
  return { faissRow, externalId };
}
