/**
 * Typed arrays over one DuckDB result chunk of `(id BIGINT, embedding FLOAT[])`.
 *
 * This goes to `@duckdb/node-bindings` (the C API that `@duckdb/node-api` wraps) because node-api
 * keeps the typed arrays behind its vectors private and otherwise builds value objects per row;
 * those objects are what made the DuckDB path 5-10x slower than DuckDB itself (docs/PERFORMANCE.md, reference figures).
 * The binding is built without external buffers, so each `vector_get_data` is one memcpy into a new
 * Buffer (about 1 ms per 3 MB chunk): the one intermediate copy this path cannot avoid.
 */
import duckdb from '@duckdb/node-bindings';
import { BIGINT, DuckDBDataChunk, UBIGINT, type DuckDBAppender } from '@duckdb/node-api';

export interface ChunkViews {
  rows: number;
  ids: BigInt64Array;
  /** DuckDB validity bits for `ids` (bit i of byte i>>3), or null when every id is present. */
  idValidity: Uint8Array | null;
  /** Per row: low 32 bits of the list entry's offset at [4i] and of its length at [4i+2]. */
  entries: Uint32Array;
  listValidity: Uint8Array | null;
  /** The flat child vector holding every row's floats. */
  values: Float32Array;
  valueValidity: Uint8Array | null;
}

export function chunkViews(chunk: DuckDBDataChunk): ChunkViews {
  const raw = chunk.chunk;
  const rows = duckdb.data_chunk_get_size(raw);
  const idVector = duckdb.data_chunk_get_vector(raw, 0);
  const listVector = duckdb.data_chunk_get_vector(raw, 1);
  const child = duckdb.list_vector_get_child(listVector);
  const childSize = duckdb.list_vector_get_size(listVector);
  return {
    rows,
    ids: typedView(duckdb.vector_get_data(idVector, rows * 8), BigInt64Array, rows),
    idValidity: validity(idVector, rows),
    entries: typedView(duckdb.vector_get_data(listVector, rows * 16), Uint32Array, rows * 4),
    listValidity: validity(listVector, rows),
    values: typedView(duckdb.vector_get_data(child, childSize * 4), Float32Array, childSize),
    valueValidity: validity(child, childSize),
  };
}

/** Column `index` of a chunk whose type is BIGINT, as one BigInt64Array, with its validity bits. */
export function int64Column(
  chunk: DuckDBDataChunk,
  index: number,
): { values: BigInt64Array; validity: Uint8Array | null } {
  const raw = chunk.chunk;
  const rows = duckdb.data_chunk_get_size(raw);
  const vector = duckdb.data_chunk_get_vector(raw, index);
  return {
    values: typedView(duckdb.vector_get_data(vector, rows * 8), BigInt64Array, rows),
    validity: validity(vector, rows),
  };
}

export function isValid(bits: Uint8Array | null, i: number): boolean {
  return bits === null || (bits[i >>> 3]! & (1 << (i & 7))) !== 0;
}

/** Whether any bit in [start, end) is clear. */
export function anyInvalid(bits: Uint8Array | null, start: number, end: number): boolean {
  if (bits === null) return false;
  let i = start;
  for (; i < end && (i & 7) !== 0; i++) if (!isValid(bits, i)) return true;
  for (; i + 8 <= end; i += 8) if (bits[i >>> 3] !== 0xff) return true;
  for (; i < end; i++) if (!isValid(bits, i)) return true;
  return false;
}

function validity(vector: duckdb.Vector, count: number): Uint8Array | null {
  // The binding returns null when DuckDB has no mask, i.e. every row is valid.
  return (duckdb.vector_get_validity(vector, Math.ceil(count / 64) * 8) as Uint8Array | null) ?? null;
}

interface TypedArrayType<T> {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

function typedView<T>(bytes: Uint8Array, Type: TypedArrayType<T>, length: number): T {
  if (bytes.byteOffset % Type.BYTES_PER_ELEMENT === 0)
    return new Type(bytes.buffer, bytes.byteOffset, length);
  // A binding buffer carved from a shared pool can start at an odd offset; copy to realign.
  const aligned = new Uint8Array(length * Type.BYTES_PER_ELEMENT);
  aligned.set(bytes.subarray(0, aligned.length));
  return new Type(aligned.buffer, 0, length);
}

/**
 * Appends whole 64-bit integer columns (`BIGINT` for BigInt64Array, `UBIGINT` for BigUint64Array)
 * through one data chunk of DuckDB's vector size at a time, each column copied in with one memcpy:
 * the appender's per-value calls cost ~0.6 s of JS per million (id, hash) rows, this ~10 ms.
 */
export function appendInt64Columns(
  appender: DuckDBAppender,
  columns: readonly (BigInt64Array | BigUint64Array)[],
): void {
  const rows = columns[0]?.length ?? 0;
  if (columns.some((c) => c.length !== rows))
    throw new RangeError('appendInt64Columns: columns differ in length');
  const types = columns.map((c) => (c instanceof BigInt64Array ? BIGINT : UBIGINT));
  const step = duckdb.vector_size();
  const chunk = DuckDBDataChunk.create(types, step);
  for (let start = 0; start < rows; start += step) {
    const n = Math.min(step, rows - start);
    duckdb.data_chunk_reset(chunk.chunk);
    for (const [k, column] of columns.entries()) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, k);
      duckdb.copy_data_to_vector(
        vector,
        0,
        column.buffer as ArrayBuffer,
        column.byteOffset + start * 8,
        n * 8,
      );
    }
    duckdb.data_chunk_set_size(chunk.chunk, n);
    appender.appendDataChunk(chunk);
  }
}
