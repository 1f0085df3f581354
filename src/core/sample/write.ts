/**
 * Chunk rows -> Parquet, one row group at a time. Columns are assembled as Arrow data straight from
 * typed arrays (no per-value JS objects for the embeddings), handed to parquet-wasm's streaming
 * writer through Arrow IPC, and written to a temporary file that is renamed into place when
 * complete. The output is a pure function of the rows: no timestamps, fixed writer settings.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Writable } from 'node:stream';

import {
  Field,
  FixedSizeList,
  Float32,
  Int32,
  Int64,
  RecordBatch,
  Schema,
  Struct,
  Table,
  Utf8,
  makeData,
  tableToIPC,
  type Data,
} from 'apache-arrow';
import * as parquet from 'parquet-wasm';

import { tempPathFor } from '../util/fsync.js';

/** One row group's worth of chunks, column by column. */
export interface ChunkBatch {
  ids: BigInt64Array;
  uris: string[];
  langs: string[];
  startLines: Int32Array;
  endLines: Int32Array;
  texts: string[];
  /** rows x dim, row-major. */
  embeddings: Float32Array;
}

export interface ChunkFileOptions {
  dim: number;
  /** Stored as Parquet key-value metadata (e.g. which embedder made the vectors). */
  metadata: Record<string, string>;
  rowGroupSize: number;
}

const encoder = new TextEncoder();

function utf8Column(values: string[]): Data<Utf8> {
  const encoded = values.map((value) => encoder.encode(value));
  const valueOffsets = new Int32Array(values.length + 1);
  let total = 0;
  encoded.forEach((bytes, i) => {
    valueOffsets[i] = total;
    total += bytes.length;
  });
  valueOffsets[values.length] = total;
  const data = new Uint8Array(total);
  encoded.forEach((bytes, i) => data.set(bytes, valueOffsets[i]));
  return makeData({ type: new Utf8(), length: values.length, nullCount: 0, valueOffsets, data });
}

export function chunkSchema(dim: number): Schema {
  const embedding = new FixedSizeList(dim, new Field('item', new Float32(), false));
  return new Schema([
    new Field('id', new Int64(), false),
    new Field('uri', new Utf8(), false),
    new Field('lang', new Utf8(), false),
    new Field('start_line', new Int32(), false),
    new Field('end_line', new Int32(), false),
    new Field('text', new Utf8(), false),
    new Field('embedding', embedding, false),
  ]);
}

export function toRecordBatch(schema: Schema, batch: ChunkBatch): RecordBatch {
  const rows = batch.ids.length;
  const embeddingType = schema.fields[6]!.type as FixedSizeList<Float32>;
  const children = [
    makeData({ type: new Int64(), length: rows, nullCount: 0, data: batch.ids }),
    utf8Column(batch.uris),
    utf8Column(batch.langs),
    makeData({ type: new Int32(), length: rows, nullCount: 0, data: batch.startLines }),
    makeData({ type: new Int32(), length: rows, nullCount: 0, data: batch.endLines }),
    utf8Column(batch.texts),
    makeData({
      type: embeddingType,
      length: rows,
      nullCount: 0,
      child: makeData({
        type: new Float32(),
        length: batch.embeddings.length,
        nullCount: 0,
        data: batch.embeddings,
      }),
    }),
  ];
  const data = makeData({ type: new Struct(schema.fields), length: rows, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

function writerProperties(options: ChunkFileOptions): parquet.WriterProperties {
  return new parquet.WriterPropertiesBuilder()
    .setCompression(parquet.Compression.SNAPPY)
    .setMaxRowGroupSize(options.rowGroupSize)
    .setCreatedBy('indexctl')
    .setKeyValueMetadata(new Map(Object.entries(options.metadata)))
    .build();
}

/**
 * Streams `batches` into a Parquet file at `out` and returns its size. Nothing appears at `out`
 * unless the whole file was written.
 */
export async function writeChunkFile(
  out: string,
  batches: AsyncIterable<ChunkBatch>,
  options: ChunkFileOptions,
): Promise<number> {
  const schema = chunkSchema(options.dim);
  const iterator = batches[Symbol.asyncIterator]();
  const source = new ReadableStream<parquet.RecordBatch>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) {
        controller.close();
        return;
      }
      const ipc = tableToIPC(new Table([toRecordBatch(schema, next.value)]), 'stream');
      const table = parquet.Table.fromIPCStream(ipc);
      controller.enqueue(table.recordBatch(0)!);
      table.free();
    },
  });
  const temporary = tempPathFor(out);
  try {
    const bytes = await parquet.transformParquetStream(source, writerProperties(options));
    await bytes.pipeTo(Writable.toWeb(createWriteStream(temporary)));
    await rename(temporary, out);
  } catch (err) {
    await rm(temporary, { force: true });
    throw err;
  }
  return (await stat(out)).size;
}
