/**
 * `chunks V`: which chunks a version holds (id, uri, lines, lang), filtered by a uri glob and a
 * language, so an operator can find an id to search with. Read through the read-only catalog; the
 * filters are bound parameters (the glob goes to DuckDB's GLOB operator as a value, never into SQL).
 */
import { UsageError } from '../errors.js';
import { resolveTarget } from '../search/target.js';
import { openCatalog } from './open.js';

export const DEFAULT_CHUNKS_LIMIT = 20;

export interface ListChunksOptions {
  root: string;
  /** Default: CURRENT. */
  version?: string;
  /** DuckDB GLOB over the uri: `*` any run of characters (`/` included), `?` one, `[abc]` a class. */
  uri?: string;
  lang?: string;
  /** Rows to return (default 20); `total` counts every match. */
  limit?: number;
}

export interface ChunkEntry {
  id: bigint;
  uri: string | null;
  lang: string | null;
  start_line: number | null;
  end_line: number | null;
}

export interface ChunkListing {
  version: string;
  dir: string;
  uri: string | null;
  lang: string | null;
  limit: number;
  /** Chunks matching the filters, of which `chunks` holds the first `limit` by uri and line. */
  total: number;
  chunks: ChunkEntry[];
}

const numberOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export async function listChunks(o: ListChunksOptions): Promise<ChunkListing> {
  const limit = o.limit ?? DEFAULT_CHUNKS_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1) {
    throw new UsageError(`--limit must be a positive integer, got ${String(limit)}`);
  }
  const target = resolveTarget({ root: o.root, ...(o.version !== undefined ? { version: o.version } : {}) });
  const catalog = await openCatalog(target.dir);
  try {
    // chunk_meta holds the canonical columns whatever the chunks file called them; a catalog made
    // by another tool has only the view, whose columns carry the default names.
    const source = catalog.hydrationTable ?? 'chunks';
    const where: string[] = [];
    const params: Record<string, string | bigint> = { limit: BigInt(limit) };
    if (o.uri !== undefined) {
      where.push('uri::VARCHAR GLOB $uri');
      params.uri = o.uri;
    }
    if (o.lang !== undefined) {
      where.push('lang::VARCHAR = $lang');
      params.lang = o.lang;
    }
    const rows = await catalog.query(
      `SELECT id::BIGINT AS id, uri::VARCHAR AS uri, lang::VARCHAR AS lang,
              start_line::BIGINT AS start_line, end_line::BIGINT AS end_line, count(*) OVER () AS total
         FROM ${source} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY uri, start_line, id LIMIT $limit`,
      params,
    );
    return {
      version: target.version,
      dir: target.dir,
      uri: o.uri ?? null,
      lang: o.lang ?? null,
      limit,
      total: rows.length === 0 ? 0 : Number(rows[0]!.total),
      chunks: rows.map((r) => ({
        id: r.id as bigint,
        uri: (r.uri as string | null) ?? null,
        lang: (r.lang as string | null) ?? null,
        start_line: numberOrNull(r.start_line),
        end_line: numberOrNull(r.end_line),
      })),
    };
  } finally {
    catalog.close();
  }
}
