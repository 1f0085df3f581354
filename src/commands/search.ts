import { UsageError } from '../core/errors.js';
import { searchVersion, type SearchReport } from '../core/search/search.js';
import type { CommandOptions, search as searchCommand } from '../cli-options.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';
import type { CommandContext, CommandOutput } from './context.js';

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

export async function run(ctx: CommandContext<CommandOptions<typeof searchCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  const version = ctx.args[0];
  if (version !== undefined && o.current)
    throw new UsageError('search: give a version or --current, not both');
  const report = await searchVersion({
    root: ctx.globals.root,
    duckdb: ctx.globals.duckdb,
    version,
    id: o.id,
    vectorFile: o.vectorFile,
    text: o.text,
    embeddingColumn: o.embeddingColumn,
    poolOut: o.poolOut,
    k: o.k,
    verifyChecksum: o.verifyChecksum,
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
  return { json, render: (out) => render(report, out) };
}

function render(r: SearchReport, out: OutputStream): string {
  const lines = [
    `version ${r.version}: ${r.factory}, ${r.metric} (score: ${r.score_order}), ` +
      `params ${r.params === '' ? '(index defaults)' : r.params}, k=${r.k}`,
  ];
  for (const q of r.queries) {
    lines.push('', `query ${q.query_id}: ${q.hits.length} hits`);
    const table = renderTable(
      ['rank', 'id', 'score', 'uri', 'lines', 'lang', 'faiss_row'],
      q.hits.map((h) => [
        h.rank,
        String(h.id),
        h.score.toPrecision(6),
        h.uri ?? '(not in catalog)',
        h.start_line === null ? '' : `${h.start_line}-${h.end_line ?? ''}`,
        h.lang ?? '',
        h.faiss_row === null ? '' : String(h.faiss_row),
      ]),
      out,
      { align: ['right', 'right', 'right', 'left', 'left', 'left', 'right'] },
    );
    lines.push(table);
  }
  if (r.pool) {
    lines.push(
      '',
      `appended ${r.pool.appended} rows to pool ${r.pool.pool} (${r.pool.rows} rows in its parts)`,
    );
  }
  return lines.join('\n');
}
