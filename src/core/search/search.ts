/**
 * The `search` command's core: k-NN on a version with its tuning applied, for queries given as a
 * stored chunk's embedding (`id`), a file of vectors, or words (`text`, embedded by the built-in
 * embedder for versions whose manifest records it), hydrated from the catalog, optionally appended
 * to a pool file.
 */
import path from 'node:path';

import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { NotFoundError, UsageError } from '../errors.js';
import { refuseNonRegular } from '../util/regular-file.js';
import { EMBEDDER, embedText } from '../sample/embed.js';
import { builtInEmbedder } from '../sample/embedder-record.js';
import { openIndex, type SearchHit } from './open-index.js';
import { appendPool, checkPoolPath, type PoolAppendReport, type PoolRow } from './pool.js';
import { readQueryVectors } from './query-file.js';

export interface SearchOptions {
  root: string;
  /** Default: CURRENT. */
  version?: string;
  /** Search with this chunk's stored embedding. */
  id?: bigint;
  /** Or with the vectors of this file (Parquet, .npy float32, raw float32). */
  vectorFile?: string;
  /** Or with these words, for versions built from `sample` chunks (manifest attrs.embedder). */
  text?: string;
  embeddingColumn?: string;
  k?: number;
  /** Append the hits to this pool directory (one Parquet part per search; see pool.ts). */
  poolOut?: string;
  verifyChecksum?: boolean;
  /** DuckDB memory and thread limits (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
}

export interface QueryResult {
  query_id: string;
  hits: (SearchHit & { rank: number })[];
}

export interface SearchReport {
  version: string;
  dir: string;
  factory: string;
  metric: string;
  /** How to read `score`. */
  score_order: 'higher is better' | 'lower is better';
  /** The ParameterSpace settings in effect ('' for none). */
  params: string;
  k: number;
  queries: QueryResult[];
  pool?: PoolAppendReport;
}

export const POOL_CHANNEL = 'faiss';

export async function searchVersion(options: SearchOptions): Promise<SearchReport> {
  const given = [options.id, options.vectorFile, options.text].filter((q) => q !== undefined).length;
  if (given !== 1) {
    throw new UsageError('search: give exactly one of --id ID, --vector-file FILE or --text WORDS');
  }
  const k = options.k ?? 10;
  if (!Number.isSafeInteger(k) || k < 1) throw new UsageError(`k must be a positive integer, got ${k}`);
  // Refused before the index is loaded; appendPool and readQueryVectors check again at their open.
  if (options.poolOut !== undefined) checkPoolPath(options.poolOut);
  if (options.vectorFile !== undefined) refuseNonRegular(path.resolve(options.vectorFile), 'query file');
  const handle = await openIndex(
    { root: options.root, ...(options.version !== undefined ? { version: options.version } : {}) },
    {
      verifyChecksum: options.verifyChecksum ?? false,
      ...(options.duckdb ? { duckdb: options.duckdb } : {}),
    },
  );
  try {
    let vectors: Float32Array;
    let queryIds: string[];
    if (options.id !== undefined) {
      const found = await handle.catalog.embeddingsByIds([options.id]);
      if (found.found.length === 0) {
        throw new NotFoundError(
          `chunk id ${options.id} has no embedding in version ${handle.version} (not in its chunks)`,
        );
      }
      vectors = found.vectors;
      queryIds = [String(options.id)];
    } else if (options.text !== undefined) {
      vectors = embedWords(options.text, handle.version, handle.manifest.attrs, handle.dim);
      queryIds = [`text:${JSON.stringify(options.text)}`];
    } else {
      const q = await readQueryVectors(options.vectorFile!, {
        dim: handle.dim,
        ...(options.embeddingColumn ? { embeddingColumn: options.embeddingColumn } : {}),
      });
      vectors = q.vectors;
      const base = path.basename(q.file);
      queryIds = Array.from({ length: q.rows }, (_, i) => `${base}#${i}`);
    }
    const results = await handle.search(vectors, k);
    const queries = results.map((hits, i) => ({
      query_id: queryIds[i]!,
      hits: hits.map((hit, r) => ({ rank: r + 1, ...hit })),
    }));
    const report: SearchReport = {
      version: handle.version,
      dir: handle.dir,
      factory: handle.manifest.faiss_factory,
      metric: handle.metric,
      score_order: handle.metric === 'l2' ? 'lower is better' : 'higher is better',
      params: handle.appliedParameters,
      k,
      queries,
    };
    if (options.poolOut !== undefined) {
      const rows: PoolRow[] = queries.flatMap((q) =>
        q.hits.map((hit) => ({
          query_id: q.query_id,
          channel: POOL_CHANNEL,
          rank: hit.rank,
          chunk_id: hit.id,
          score: hit.score,
          explanations: JSON.stringify({
            version: report.version,
            factory: report.factory,
            metric: report.metric,
            params: report.params,
            distance: hit.score,
          }),
        })),
      );
      report.pool = await appendPool(path.resolve(options.poolOut), rows);
    }
    return report;
  } finally {
    await handle.close();
  }
}

/**
 * The query vector of `text`, by the embedder the version's vectors were made with. Only the
 * built-in one can be run here; for any other version words have no place in its space (exit 2).
 */
function embedWords(
  text: string,
  version: string,
  attrs: Record<string, unknown> | undefined,
  dim: number,
): Float32Array {
  if (!builtInEmbedder(attrs, dim)) {
    const recorded =
      attrs?.embedder === undefined
        ? 'records no embedder'
        : `records embedder ${JSON.stringify(attrs.embedder)}`;
    throw new UsageError(
      `search --text: version ${version} ${recorded}; --text embeds words with the built-in ${EMBEDDER} ` +
        `(dim ${dim}), which only matches versions built from \`indexctl sample\` chunks. ` +
        `Query it with --id ID or --vector-file FILE (vectors from the embedder that made its chunks)`,
    );
  }
  const vector = new Float32Array(dim);
  if (!embedText(text, dim, vector)) {
    throw new UsageError(
      `search --text: ${JSON.stringify(text)} has no words to search for (letters, digits or _)`,
    );
  }
  return vector;
}
