/**
 * Ids -> chunk rows and ids -> embeddings, one query per call whatever the number of ids: the
 * distinct ids travel as one bound BIGINT[] parameter and DuckDB pushes them into the Parquet scan
 * as a filter. Results are put back in the caller's order here.
 *
 * Hydration reads the catalog's `chunk_meta` table (catalog/create.ts). Without one (a catalog made
 * by another tool) it is v_faiss_join restricted to the ids, spelled out with the filter on both
 * sides of the join: DuckDB does not carry a filter on `chunks.id` through the LEFT JOIN into the
 * idmap scan, and scanning the whole idmap made a 10-id lookup 4x slower at 1M rows (55 ms against
 * 14 ms).
 */
import {
  BIGINT,
  DuckDBBigIntVector,
  DuckDBFloatVector,
  DuckDBListVector,
  LIST,
  listValue,
  type DuckDBConnection,
} from '@duckdb/node-api';

import { InvariantViolationError } from '../errors.js';
import { checkIds, distinct } from './ids.js';

export interface ChunkRow {
  id: bigint;
  uri: string | null;
  lang: string | null;
  start_line: number | null;
  end_line: number | null;
  /** Present when asked for (`{ text: true }`) and the chunks have a `text` column. */
  text?: string | null;
  /** The chunk's FAISS row, or null when the idmap does not hold its id (it is not indexed). */
  faiss_row: bigint | null;
}

export interface HydrateOptions {
  /** Also return the chunk text (off by default: it is the widest column). */
  text?: boolean;
}

export interface HydrateResult {
  /** One row per requested id that exists, in the caller's order (a repeated id repeats its row). */
  rows: ChunkRow[];
  /** Requested ids with no chunk, each once, in order of first appearance. */
  missing: bigint[];
}

export interface EmbeddingsResult {
  /** found.length x dim floats, row i belonging to found[i]. */
  vectors: Float32Array;
  /** The requested ids that have an embedding, in the caller's order. */
  found: BigInt64Array;
  /** Requested ids with no chunk or a null embedding, each once, in order of first appearance. */
  missing: bigint[];
  /** Length of the embeddings; 0 when nothing was found. */
  dim: number;
}

const ID_LIST = { ids: LIST(BIGINT) };

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export async function hydrateIds(
  connection: DuckDBConnection,
  requested: BigInt64Array | readonly bigint[],
  options: HydrateOptions & { hasText: boolean; table: string | undefined },
): Promise<HydrateResult> {
  const ids = checkIds(requested);
  if (ids.length === 0) return { rows: [], missing: [] };
  const wanted = distinct(ids);
  const withText = options.text === true && options.hasText;
  // The catalog's table when it has one (every catalog indexctl made does); the Parquet views for
  // one made otherwise. The text, the widest column, is only in chunks.parquet.
  const reader = await connection.runAndReadAll(
    options.table !== undefined
      ? `SELECT m.*${withText ? ', c.text::VARCHAR AS text' : ''}
           FROM (SELECT * FROM ${options.table} WHERE id IN (SELECT unnest($ids))) m
           ${withText ? 'LEFT JOIN (SELECT id, text FROM chunks WHERE id IN (SELECT unnest($ids))) c ON c.id = m.id' : ''}`
      : `SELECT c.id::BIGINT AS id, c.uri::VARCHAR AS uri, c.lang::VARCHAR AS lang,
            c.start_line::BIGINT AS start_line, c.end_line::BIGINT AS end_line,
            i.faiss_row::BIGINT AS faiss_row${withText ? ', c.text::VARCHAR AS text' : ''}
       FROM (SELECT * FROM chunks WHERE id IN (SELECT unnest($ids))) c
       LEFT JOIN (SELECT * FROM idmap WHERE external_id IN (SELECT unnest($ids))) i ON i.external_id = c.id`,
    { ids: listValue(wanted) },
    ID_LIST,
  );
  const byId = new Map<bigint, ChunkRow>();
  for (const raw of reader.getRowObjectsJS()) {
    const row: ChunkRow = {
      id: raw.id as bigint,
      uri: (raw.uri as string | null) ?? null,
      lang: (raw.lang as string | null) ?? null,
      start_line: nullableNumber(raw.start_line),
      end_line: nullableNumber(raw.end_line),
      faiss_row: (raw.faiss_row as bigint | null) ?? null,
    };
    if (withText) row.text = (raw.text as string | null) ?? null;
    byId.set(row.id, row);
  }
  const rows: ChunkRow[] = [];
  for (const id of ids) {
    const row = byId.get(id);
    if (row) rows.push({ ...row });
  }
  return { rows, missing: wanted.filter((id) => !byId.has(id)) };
}

export async function embeddingsForIds(
  connection: DuckDBConnection,
  requested: BigInt64Array | readonly bigint[],
): Promise<EmbeddingsResult> {
  const ids = checkIds(requested);
  const wanted = distinct(ids);
  const byId = new Map<bigint, Float32Array>();
  let dim = -1;
  if (wanted.length > 0) {
    const result = await connection.run(
      `SELECT id::BIGINT AS id, embedding::FLOAT[] AS embedding FROM chunks
        WHERE id IN (SELECT unnest($ids)) AND embedding IS NOT NULL`,
      { ids: listValue(wanted) },
      ID_LIST,
    );
    for (let c = 0; c < result.chunkCount; c++) {
      const chunk = result.getChunk(c);
      const idVector = chunk.getColumnVector(0) as DuckDBBigIntVector;
      const listVector = chunk.getColumnVector(1) as DuckDBListVector;
      const floats = listVector.childVector as DuckDBFloatVector;
      for (let r = 0; r < chunk.rowCount; r++) {
        const id = idVector.getItem(r)!;
        const offset = listVector.getEntryOffset(r);
        const length = listVector.getEntryLength(r);
        if (dim === -1) dim = length;
        if (length !== dim) {
          throw new InvariantViolationError(
            `chunks: embedding of id ${id} has ${length} values, others have ${dim}`,
          );
        }
        const vector = new Float32Array(length);
        for (let j = 0; j < length; j++) {
          const value = floats.getItem(offset + j);
          if (value === null) {
            throw new InvariantViolationError(`chunks: embedding of id ${id} has a null at position ${j}`);
          }
          vector[j] = value;
        }
        byId.set(id, vector);
      }
    }
  }
  const foundIds = ids.filter((id) => byId.has(id));
  const width = Math.max(dim, 0);
  const vectors = new Float32Array(foundIds.length * width);
  foundIds.forEach((id, i) => vectors.set(byId.get(id)!, i * width));
  return {
    vectors,
    found: BigInt64Array.from(foundIds),
    missing: wanted.filter((id) => !byId.has(id)),
    dim: width,
  };
}
