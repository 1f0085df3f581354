/**
 * The catalog table `chunk_embedding_hash (id BIGINT, hash UBIGINT)`, sorted by id: each chunk's
 * embedding hash (build/embedding-hash.ts), which `build --base` compares against. Versions built
 * before it have no such table; the incremental build then hashes the base's chunks.parquet.
 */
import path from 'node:path';

import type { DuckDBBigIntVector, DuckDBConnection, DuckDBUBigIntVector } from '@duckdb/node-api';

import type { DuckDBLimits } from './duckdb-limits.js';
import { IndexCorruptionError } from '../errors.js';
import { connectCatalog, disconnect, message } from './connect.js';
import { CATALOG_FILE } from './location.js';
import { appendInt64Columns } from '../parquet/duckdb-chunk.js';

export const EMBEDDING_HASH_TABLE = 'chunk_embedding_hash';

/** Every row's id and hash, in the order the rows were added (or sorted by id where said). */
export interface EmbeddingHashes {
  ids: BigInt64Array;
  hashes: BigUint64Array;
}

/**
 * Creates and fills the table (inside createCatalog's connection), in the order given (FAISS row
 * order for a build): it is only ever read whole, sorted by id on the way out, so sorting it here
 * (0.06 s at 300k rows, and a second table) bought nothing. Versions built before 0.1 stored it sorted.
 */
export async function storeEmbeddingHashes(connection: DuckDBConnection, h: EmbeddingHashes): Promise<void> {
  await connection.run(`CREATE TABLE ${EMBEDDING_HASH_TABLE} (id BIGINT, hash UBIGINT)`);
  const appender = await connection.createAppender(EMBEDDING_HASH_TABLE);
  appendInt64Columns(appender, [h.ids, h.hashes]);
  appender.closeSync();
}

/** The base version's hashes sorted by id, or undefined when its catalog predates the table. */
export async function readEmbeddingHashes(
  versionDir: string,
  duckdb?: DuckDBLimits,
): Promise<EmbeddingHashes | undefined> {
  const file = path.join(versionDir, CATALOG_FILE);
  const handle = await connectCatalog(file, versionDir, 'read-only', {}, duckdb);
  try {
    const { connection } = handle;
    const tables = await connection.runAndReadAll(
      'SELECT 1 FROM duckdb_tables() WHERE database_name = current_database() AND table_name = $name',
      { name: EMBEDDING_HASH_TABLE },
    );
    if (tables.getRowsJS().length === 0) return undefined;
    const n = Number(
      (await connection.runAndReadAll(`SELECT count(*) FROM ${EMBEDDING_HASH_TABLE}`)).getRowsJS()[0]![0],
    );
    const out: EmbeddingHashes = { ids: new BigInt64Array(n), hashes: new BigUint64Array(n) };
    const result = await connection.stream(`SELECT id, hash FROM ${EMBEDDING_HASH_TABLE} ORDER BY id`);
    let row = 0;
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const ids = chunk.getColumnVector(0) as DuckDBBigIntVector;
      const hashes = chunk.getColumnVector(1) as DuckDBUBigIntVector;
      for (let r = 0; r < chunk.rowCount && row < n; r++, row++) {
        out.ids[row] = ids.getItem(r)!;
        out.hashes[row] = hashes.getItem(r)!;
      }
    }
    return out;
  } catch (err) {
    throw new IndexCorruptionError(`${file}: cannot read ${EMBEDDING_HASH_TABLE}: ${message(err)}`, {
      cause: err,
    });
  } finally {
    disconnect(handle);
  }
}
