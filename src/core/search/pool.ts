/**
 * Pool files: the rows an evaluation pool collects from each retrieval channel, one per (query, hit):
 * `query_id` string, `channel` string ('faiss' here), `rank` int32 (1-based), `chunk_id` int64 (joins
 * the catalog's `v_faiss_join` on `id`), `score` float64, `explanations` string (JSON).
 *
 * Appending rewrites the file: the existing rows are read, the new ones added, and the whole file
 * written to a temp file, synced and renamed over the old one, so a reader (or a crash) sees the old
 * pool or the new one, never a torn file. This costs O(pool) per append, which is fine for pools
 * (thousands of rows); numbered part files would have made every reader glob a directory.
 * Two processes appending to the same pool at once can lose one's rows (the later rename wins):
 * give concurrent runs their own files.
 */
import { readFileSync } from 'node:fs';

import * as arrow from 'apache-arrow';
import {
  Compression,
  Table as WasmTable,
  WriterPropertiesBuilder,
  readParquet,
  writeParquet,
} from 'parquet-wasm';

import { BadInputError } from '../errors.js';
import { writeFileDurable } from '../fsync.js';
import { refuseNonRegular } from '../regular-file.js';

export interface PoolRow {
  query_id: string;
  channel: string;
  rank: number;
  chunk_id: bigint;
  score: number;
  explanations: string;
}

const SCHEMA = new arrow.Schema([
  new arrow.Field('query_id', new arrow.Utf8(), false),
  new arrow.Field('channel', new arrow.Utf8(), false),
  new arrow.Field('rank', new arrow.Int32(), false),
  new arrow.Field('chunk_id', new arrow.Int64(), false),
  new arrow.Field('score', new arrow.Float64(), false),
  new arrow.Field('explanations', new arrow.Utf8(), false),
]);

export const POOL_COLUMNS = SCHEMA.fields.map((f) => f.name);

export interface PoolAppendReport {
  file: string;
  appended: number;
  /** Rows in the file afterwards. */
  rows: number;
}

function describeSchema(schema: arrow.Schema): string {
  return schema.fields.map((f) => `${f.name} ${String(f.type)}`).join(', ');
}

/** The rows already in a pool file; a file of another shape is refused, not overwritten. */
function readExisting(file: string): PoolRow[] {
  let table: arrow.Table;
  try {
    const wasm = readParquet(readFileSync(file));
    table = arrow.tableFromIPC(wasm.intoIPCStream());
  } catch (err) {
    throw new BadInputError(
      `${file}: exists but cannot be read as Parquet (${(err as Error).message}); not appending`,
      {
        cause: err,
      },
    );
  }
  const ok =
    table.schema.fields.length === SCHEMA.fields.length &&
    SCHEMA.fields.every((f, i) => {
      const got = table.schema.fields[i]!;
      return got.name === f.name && got.typeId === f.typeId;
    });
  if (!ok) {
    throw new BadInputError(
      `${file}: exists with columns (${describeSchema(table.schema)}), not a pool file ` +
        `(${describeSchema(SCHEMA)}); not appending`,
    );
  }
  const col = (name: string) => [...table.getChild(name)!] as unknown[];
  const [q, c, r, id, s, e] = POOL_COLUMNS.map(col) as [
    string[],
    string[],
    number[],
    bigint[],
    number[],
    string[],
  ];
  return q.map((query_id, i) => ({
    query_id,
    channel: c[i]!,
    rank: r[i]!,
    chunk_id: id[i]!,
    score: s[i]!,
    explanations: e[i]!,
  }));
}

function toTable(rows: readonly PoolRow[]): arrow.Table {
  const data = <T extends arrow.DataType>(type: T, values: unknown): arrow.Data<T> =>
    arrow.vectorFromArray(values as never, type).data[0] as arrow.Data<T>;
  const struct = arrow.makeData({
    type: new arrow.Struct(SCHEMA.fields),
    length: rows.length,
    nullCount: 0,
    children: [
      data(
        new arrow.Utf8(),
        rows.map((r) => r.query_id),
      ),
      data(
        new arrow.Utf8(),
        rows.map((r) => r.channel),
      ),
      data(
        new arrow.Int32(),
        Int32Array.from(rows, (r) => r.rank),
      ),
      data(
        new arrow.Int64(),
        BigInt64Array.from(rows, (r) => r.chunk_id),
      ),
      data(
        new arrow.Float64(),
        Float64Array.from(rows, (r) => r.score),
      ),
      data(
        new arrow.Utf8(),
        rows.map((r) => r.explanations),
      ),
    ],
  });
  return new arrow.Table([new arrow.RecordBatch(SCHEMA, struct)]);
}

/** Appends `rows` to the pool file (created when missing), atomically. */
export async function appendPool(file: string, rows: readonly PoolRow[]): Promise<PoolAppendReport> {
  // /dev/full or a FIFO is refused before it is read (or renamed over): only a regular file appends.
  const exists = refuseNonRegular(file, 'pool file') !== undefined;
  const all = exists ? [...readExisting(file), ...rows] : [...rows];
  const wasm = WasmTable.fromIPCStream(arrow.tableToIPC(toTable(all), 'stream'));
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setCreatedBy('indexctl')
    .build();
  const bytes = writeParquet(wasm, properties);
  await writeFileDurable(file, bytes);
  return { file, appended: rows.length, rows: all.length };
}
