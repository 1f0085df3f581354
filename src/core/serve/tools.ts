/**
 * The MCP tools of `indexctl serve`, as plain functions over a FollowingIndex: their input schemas
 * (zod, checked by the SDK before a handler runs), the checks only the served version can make
 * (vector length, unknown ids), and their structured results. Each call runs under one lease, so
 * everything it returns comes from one version, named in the result.
 */
import { z } from 'zod';

import { BadInputError, NotFoundError } from '../errors.js';
import type { FollowingIndex } from '../search/follow.js';
import type { IndexHandle, SearchHit } from '../search/open-index.js';
import { canEmbedText, embedQueryText } from './query-text.js';

export const MAX_K = 1000;
export const MAX_FETCH = 100;
const MAX_ID = 2n ** 63n - 1n;

/**
 * Chunk ids are integers in [0, 2^63-1] (as `search --id`); they travel as decimal strings, since
 * ids beyond 2^53 do not survive a JSON number. Safe integers are accepted too.
 */
const chunkId = z
  .union([z.string().regex(/^\d{1,19}$/, 'a chunk id: decimal digits'), z.number().int().nonnegative()])
  .describe('a chunk id in [0, 2^63-1]: a decimal string, or an integer up to 2^53');

export const searchInput = z.object({
  vector: z
    .array(z.number())
    .min(1)
    .optional()
    .describe("a query vector of the served version's dimension (see the status tool)"),
  id: chunkId.optional().describe("search with this chunk's stored embedding"),
  text: z
    .string()
    .min(1)
    .max(10_000)
    .optional()
    .describe('search by text, when the served version was embedded by the built-in embedder'),
  k: z.number().int().min(1).max(MAX_K).default(10).describe(`hits to return, 1..${MAX_K}`),
});

export const fetchInput = z.object({
  ids: z.array(chunkId).min(1).max(MAX_FETCH).describe(`chunk ids, 1..${MAX_FETCH}; order is kept`),
});

export const statusInput = z.object({});

const hitOutput = z.object({
  rank: z.number().int(),
  id: z.string(),
  uri: z.string().nullable(),
  lang: z.string().nullable(),
  start_line: z.number().int().nullable(),
  end_line: z.number().int().nullable(),
  score: z.number(),
  faiss_row: z.string().nullable(),
});

export const searchOutput = z.object({
  version: z.string(),
  metric: z.string(),
  score_order: z.enum(['higher is better', 'lower is better']),
  k: z.number().int(),
  query: z.object({ kind: z.enum(['vector', 'id', 'text']), id: z.string().optional() }),
  hits: z.array(hitOutput),
});

export const fetchOutput = z.object({
  version: z.string(),
  chunks: z.array(
    z.object({
      id: z.string(),
      uri: z.string().nullable(),
      lang: z.string().nullable(),
      start_line: z.number().int().nullable(),
      end_line: z.number().int().nullable(),
      text: z.string().nullable(),
      faiss_row: z.string().nullable(),
    }),
  ),
  missing: z.array(z.string()),
});

export const statusOutput = z.object({
  root: z.string(),
  version: z.string(),
  dir: z.string(),
  factory: z.string(),
  metric: z.string(),
  dim: z.number().int(),
  vectors: z.number().int(),
  created_ts: z.number(),
  tuning: z.record(z.string(), z.unknown()).nullable(),
  parameters: z.string(),
  text_search: z.boolean(),
  follow: z.object({
    switches: z.number().int(),
    errors: z.number().int(),
    last_error: z.string().nullable(),
  }),
});

export type SearchInput = z.infer<typeof searchInput>;
export type FetchInput = z.infer<typeof fetchInput>;
export type SearchOutput = z.infer<typeof searchOutput>;
export type FetchOutput = z.infer<typeof fetchOutput>;
export type StatusOutput = z.infer<typeof statusOutput>;

function toChunkId(raw: string | number, what: string): bigint {
  if (typeof raw === 'number' && !Number.isSafeInteger(raw)) {
    throw new BadInputError(`${what} ${raw} is not a safe integer: send ids beyond 2^53 as decimal strings`);
  }
  const id = BigInt(raw);
  if (id > MAX_ID) throw new BadInputError(`${what} ${raw} is not a chunk id (an integer in [0, 2^63-1])`);
  return id;
}

function hitJson(hit: SearchHit, rank: number): z.infer<typeof hitOutput> {
  return {
    rank,
    id: String(hit.id),
    uri: hit.uri,
    lang: hit.lang,
    start_line: hit.start_line,
    end_line: hit.end_line,
    score: hit.score,
    faiss_row: hit.faiss_row === null ? null : String(hit.faiss_row),
  };
}

async function queryVector(
  handle: IndexHandle,
  input: SearchInput,
): Promise<{ vector: Float32Array; query: SearchOutput['query'] }> {
  const given = (['vector', 'id', 'text'] as const).filter((key) => input[key] !== undefined);
  if (given.length !== 1) {
    throw new BadInputError(
      `search: give exactly one of vector, id or text${given.length > 1 ? `, got ${given.join(' and ')}` : ''}`,
    );
  }
  if (input.vector !== undefined) {
    if (input.vector.length !== handle.dim) {
      throw new BadInputError(
        `search: vector has ${input.vector.length} values; version ${handle.version} has dimension ${handle.dim}`,
      );
    }
    return { vector: Float32Array.from(input.vector), query: { kind: 'vector' } };
  }
  if (input.id !== undefined) {
    const id = toChunkId(input.id, 'search: id');
    const found = await handle.catalog.embeddingsByIds([id]);
    if (found.found.length === 0) {
      throw new NotFoundError(`search: unknown chunk id ${id}: no embedding in version ${handle.version}`);
    }
    return { vector: found.vectors, query: { kind: 'id', id: String(id) } };
  }
  return { vector: embedQueryText(handle.manifest, input.text!), query: { kind: 'text' } };
}

export function searchTool(following: FollowingIndex, input: SearchInput): Promise<SearchOutput> {
  return following.withHandle(async (handle) => {
    const { vector, query } = await queryVector(handle, input);
    const [hits] = await handle.search(vector, input.k);
    return {
      version: handle.version,
      metric: handle.metric,
      score_order: handle.metric === 'l2' ? 'lower is better' : 'higher is better',
      k: input.k,
      query,
      hits: hits!.map((hit, i) => hitJson(hit, i + 1)),
    };
  });
}

export function fetchTool(following: FollowingIndex, input: FetchInput): Promise<FetchOutput> {
  const ids = input.ids.map((raw, i) => toChunkId(raw, `fetch: ids[${i}]`));
  return following.withHandle(async (handle) => {
    const { rows, missing } = await handle.catalog.hydrate(ids, { text: true });
    return {
      version: handle.version,
      chunks: rows.map((row) => ({
        id: String(row.id),
        uri: row.uri,
        lang: row.lang,
        start_line: row.start_line,
        end_line: row.end_line,
        text: row.text ?? null,
        faiss_row: row.faiss_row === null ? null : String(row.faiss_row),
      })),
      missing: missing.map(String),
    };
  });
}

export function statusTool(following: FollowingIndex): Promise<StatusOutput> {
  return following.withHandle(async (handle) => ({
    root: following.root,
    version: handle.version,
    dir: handle.dir,
    factory: handle.manifest.faiss_factory,
    metric: handle.metric,
    dim: handle.dim,
    vectors: handle.ntotal,
    created_ts: handle.manifest.created_ts,
    tuning: handle.manifest.tuning ?? null,
    parameters: handle.appliedParameters,
    text_search: canEmbedText(handle.manifest),
    follow: {
      switches: following.stats.switches,
      errors: following.stats.errors,
      last_error: following.stats.lastError?.message ?? null,
    },
  }));
}
