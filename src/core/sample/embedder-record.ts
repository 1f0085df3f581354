/**
 * Which embedder made a chunks file's vectors, as `sample` records it in the file's Parquet
 * key-value metadata (`indexctl.sample`), and as `build` passes it on to the manifest
 * (`attrs.embedder`): `search --text` embeds words with the same function only for a version whose
 * vectors that function made, since words embedded any other way land nowhere meaningful.
 */
import { globLiteral, openDuckDB, reading } from '../parquet/duckdb-source.js';
import { EMBEDDER } from './embed.js';

/** The Parquet key-value metadata key `sample` writes. */
export const SAMPLE_METADATA_KEY = 'indexctl.sample';

/** `attrs.embedder` of a manifest. */
export interface EmbedderRecord {
  /** e.g. `indexctl-feature-hash/1` (name/version of src/core/sample/embed.ts). */
  name: string;
  dim: number;
}

/**
 * The built-in embedder's record when `file` was written by `sample` with vectors of `dim` in
 * `embeddingColumn`; undefined for any other file (no metadata, another embedder or dimension, or a
 * column other than sample's `embedding`).
 */
export async function sampledEmbedder(
  file: string,
  embeddingColumn: string,
  dim: number,
): Promise<EmbedderRecord | undefined> {
  if (embeddingColumn !== 'embedding') return undefined;
  const raw = await reading(file, 'reading its key-value metadata', async () => {
    const instance = await openDuckDB();
    try {
      const connection = await instance.connect();
      try {
        const reader = await connection.runAndReadAll(
          'SELECT decode(value) AS value FROM parquet_kv_metadata($file) WHERE decode(key) = $key',
          { file: globLiteral(file), key: SAMPLE_METADATA_KEY },
        );
        return reader.getRowObjectsJS()[0]?.value;
      } finally {
        connection.closeSync();
      }
    } finally {
      instance.closeSync();
    }
  });
  if (typeof raw !== 'string') return undefined;
  let meta: { embedder?: unknown; dim?: unknown };
  try {
    meta = JSON.parse(raw) as typeof meta;
  } catch {
    return undefined; // someone else's value under our key: no record, the build goes on
  }
  return meta.embedder === EMBEDDER && meta.dim === dim ? { name: EMBEDDER, dim } : undefined;
}

/** The manifest's record if it is the built-in embedder at the index's dimension. */
export function builtInEmbedder(
  attrs: Record<string, unknown> | undefined,
  dim: number,
): EmbedderRecord | undefined {
  const e = attrs?.embedder as Partial<EmbedderRecord> | undefined;
  return e && e.name === EMBEDDER && e.dim === dim ? { name: EMBEDDER, dim } : undefined;
}
