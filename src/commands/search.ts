import Table from 'cli-table3';

import { UsageError } from '../core/errors.js';
import { searchVersion, type SearchReport } from '../core/search/search.js';
import type { CommandContext, CommandOutput } from './context.js';
import { optionalInt, optionalString } from './options.js';

/** Ids are strings in JSON: int64 ids beyond 2^53 would not survive a JSON number. */
export interface SearchJsonHit {
  rank: number;
  id: string;
  score: number;
  uri: string | null;
  lang: string | null;
  start_line: number | null;
  end_line: number | null;
  faiss_row: string | null;
}

export type SearchJson = Omit<SearchReport, 'queries'> & {
  schema: 'indexctl.search/1';
  queries: { query_id: string; hits: SearchJsonHit[] }[];
};

const MAX_ID = (1n << 63n) - 1n;

function parseId(value: unknown): bigint | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !/^\d{1,19}$/.test(value) || BigInt(value) > MAX_ID) {
    throw new UsageError(`--id must be a chunk id (an integer in [0, 2^63-1]), got ${String(value)}`);
  }
  return BigInt(value);
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  const version = ctx.args[0];
  if (version !== undefined && o.current)
    throw new UsageError('search: give a version or --current, not both');
  const id = parseId(o.id);
  const vectorFile = optionalString(o, 'vectorFile');
  const poolOut = optionalString(o, 'poolOut');
  const embeddingColumn = optionalString(o, 'embeddingColumn');
  const report = await searchVersion({
    root: ctx.globals.root,
    ...(version !== undefined ? { version } : {}),
    ...(id !== undefined ? { id } : {}),
    ...(vectorFile !== undefined ? { vectorFile } : {}),
    ...(embeddingColumn !== undefined ? { embeddingColumn } : {}),
    ...(poolOut !== undefined ? { poolOut } : {}),
    k: optionalInt(o, 'k') ?? 10,
  });
  const json: SearchJson = {
    schema: 'indexctl.search/1',
    ...report,
    queries: report.queries.map((q) => ({
      query_id: q.query_id,
      hits: q.hits.map((h) => ({
        rank: h.rank,
        id: String(h.id),
        score: h.score,
        uri: h.uri,
        lang: h.lang,
        start_line: h.start_line,
        end_line: h.end_line,
        faiss_row: h.faiss_row === null ? null : String(h.faiss_row),
      })),
    })),
  };
  return { json, text: render(report) };
}

function render(r: SearchReport): string {
  const lines = [
    `version ${r.version}: ${r.factory}, ${r.metric} (score: ${r.score_order}), ` +
      `params ${r.params === '' ? '(index defaults)' : r.params}, k=${r.k}`,
  ];
  for (const q of r.queries) {
    lines.push('', `query ${q.query_id}: ${q.hits.length} hits`);
    const table = new Table({
      head: ['rank', 'id', 'score', 'uri', 'lines', 'lang', 'faiss_row'],
      style: { head: [], border: [] },
      chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
    });
    for (const h of q.hits) {
      table.push([
        h.rank,
        String(h.id),
        h.score.toPrecision(6),
        h.uri ?? '(not in catalog)',
        h.start_line === null ? '' : `${h.start_line}-${h.end_line ?? ''}`,
        h.lang ?? '',
        h.faiss_row === null ? '' : String(h.faiss_row),
      ]);
    }
    lines.push(table.toString());
  }
  if (r.pool) lines.push('', `appended ${r.pool.appended} rows to ${r.pool.file} (${r.pool.rows} rows)`);
  return lines.join('\n');
}
