/** Both directions of "the idmap and the chunks describe the same vectors" (verify's catalog.coverage). */
import { BIGINT, type DuckDBConnection } from '@duckdb/node-api';

export interface CoverageSide {
  count: number;
  /** The smallest offending ids, at most the requested limit. */
  first: bigint[];
}

export interface CatalogCoverage {
  /** idmap rows whose external_id is not a chunk id. */
  idmapNotInChunks: CoverageSide;
  /** Chunks with an embedding whose id is not in the idmap. */
  chunksNotInIdmap: CoverageSide;
}

async function side(connection: DuckDBConnection, sql: string, limit: number): Promise<CoverageSide> {
  const reader = await connection.runAndReadAll(sql, { limit: BigInt(limit) }, { limit: BIGINT });
  const [n, first] = reader.getRowsJS()[0]!;
  return { count: Number(n), first: ((first as bigint[] | null) ?? []).slice(0, limit) };
}

export async function catalogCoverage(connection: DuckDBConnection, limit: number): Promise<CatalogCoverage> {
  return {
    idmapNotInChunks: await side(
      connection,
      `SELECT count(*), min(external_id, $limit) FROM idmap i
        WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = i.external_id)`,
      limit,
    ),
    // The anti-join runs on ids alone and only its (normally empty) result is checked for an
    // embedding: filtering every row on \`embedding IS NOT NULL\` decodes the whole embedding column
    // (1.3-2 s at 1M x 384, against 0.2 s).
    chunksNotInIdmap: await side(
      connection,
      `SELECT count(*), min(id, $limit) FROM chunks
        WHERE id IN (SELECT c.id FROM chunks c WHERE NOT EXISTS (SELECT 1 FROM idmap i WHERE i.external_id = c.id))
          AND embedding IS NOT NULL`,
      limit,
    ),
  };
}
