/**
 * Writes idmap.parquet: `faiss_row` int64 (0..n-1) and `external_id` int64, one row per FAISS row, in
 * row order (docs/format.md). Arrow columns are made straight from typed arrays and the file is
 * streamed through parquet-wasm one row group at a time, so wasm memory holds one group, not the file.
 */
import * as arrow from 'apache-arrow';
import {
  Compression,
  Table as WasmTable,
  WriterPropertiesBuilder,
  transformParquetStream,
} from 'parquet-wasm';

import { open, type FileHandle } from 'node:fs/promises';

import { guardWrite } from '../util/env-io.js';
import { writeFileDurableWith } from '../util/fsync.js';

export const IDMAP_COLUMNS = ['faiss_row', 'external_id'] as const;

/** Rows per row group (16 MiB of ids). */
const ROWS_PER_GROUP = 1 << 20;

const SCHEMA = new arrow.Schema([
  new arrow.Field('faiss_row', new arrow.Int64(), false),
  new arrow.Field('external_id', new arrow.Int64(), false),
]);

export interface IdMapWriteOptions {
  /** Rows per row group; default 1,048,576. */
  rowGroupRows?: number;
  /**
   * `file` is new, in a staging directory whose files the caller flushes (a build's StagedFiles, the
   * seal's fsync of the tree): written in place, without its own sync, rename and directory sync,
   * which on ext4 wait for the journal commit of whatever else is being written (the index).
   */
  staged?: boolean;
}

/** Writes `ids[i]` as the external id of FAISS row i. Overwrites `file` (unless `staged`). */
export async function writeIdMap(
  file: string,
  ids: BigInt64Array,
  options: IdMapWriteOptions = {},
): Promise<void> {
  const groupRows = options.rowGroupRows ?? ROWS_PER_GROUP;
  if (!Number.isSafeInteger(groupRows) || groupRows <= 0) {
    throw new RangeError(`rowGroupRows must be a positive integer, got ${groupRows}`);
  }
  const n = ids.length;
  let next = 0;
  const batches = new ReadableStream({
    // Called until closed; an empty idmap still gets one empty batch so the file carries the schema.
    pull(controller) {
      const end = Math.min(n, next + groupRows);
      controller.enqueue(wasmBatch(next, ids.subarray(next, end)));
      next = end;
      if (next >= n) controller.close();
    },
  });
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.ZSTD)
    .setMaxRowGroupSize(groupRows)
    .setCreatedBy('indexctl')
    .build();
  const bytes: ReadableStream<Uint8Array> = await transformParquetStream(batches, properties);
  const write = async (handle: FileHandle) => {
    for await (const piece of bytes) await handle.write(piece);
  };
  if (options.staged) {
    await guardWrite(`cannot write ${file}`, file, async () => {
      const handle = await open(file, 'wx', 0o644);
      try {
        await write(handle);
      } finally {
        await handle.close();
      }
    });
    return;
  }
  // Written next to its name and renamed over it when complete and synced: an existing idmap.parquet
  // (`export-idmap --out`) is replaced whole or not at all.
  await writeFileDurableWith(file, write);
}

/** One Arrow record batch in wasm memory for rows [first, first + ids.length). */
function wasmBatch(first: number, ids: BigInt64Array) {
  const n = ids.length;
  const rows = new BigInt64Array(n);
  // Row numbers fit in 32 bits; writing the low words (little-endian) avoids making n BigInts.
  const words = new Uint32Array(rows.buffer);
  for (let i = 0; i < n; i++) words[2 * i] = first + i;
  const column = (data: BigInt64Array) =>
    arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data });
  const struct = arrow.makeData({
    type: new arrow.Struct(SCHEMA.fields),
    length: n,
    nullCount: 0,
    children: [column(rows), column(ids)],
  });
  const table = new arrow.Table([new arrow.RecordBatch(SCHEMA, struct)]);
  const wasmTable = WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream'));
  try {
    const batch = wasmTable.recordBatch(0);
    if (!batch) throw new Error('parquet-wasm returned no record batch for an Arrow table with one');
    return batch;
  } finally {
    wasmTable.free();
  }
}
