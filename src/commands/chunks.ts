import { UsageError } from '../core/errors.js';
import { listChunks, type ChunkListing } from '../core/catalog/list-chunks.js';
import type { chunks as chunksCommand, CommandOptions } from '../cli-options.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';
import type { CommandContext, CommandOutput } from './context.js';

/** Ids are strings in JSON: int64 ids beyond 2^53 would not survive a JSON number. */
export type ChunksJson = Omit<ChunkListing, 'chunks'> & {
  schema: 'indexctl.chunks/1';
  chunks: {
    id: string;
    uri: string | null;
    lang: string | null;
    start_line: number | null;
    end_line: number | null;
  }[];
};

export async function run(ctx: CommandContext<CommandOptions<typeof chunksCommand>>): Promise<CommandOutput> {
  const o = ctx.options;
  const version = ctx.args[0];
  if (version !== undefined && o.current)
    throw new UsageError('chunks: give a version or --current, not both');
  const listing = await listChunks({
    root: ctx.globals.root,
    version,
    uri: o.uri,
    lang: o.lang,
    limit: o.limit,
  });
  const json: ChunksJson = {
    schema: 'indexctl.chunks/1',
    ...listing,
    chunks: listing.chunks.map((c) => ({ ...c, id: String(c.id) })),
  };
  return { json, render: (out) => render(listing, out) };
}

function render(r: ChunkListing, out: OutputStream): string {
  const filters = [r.uri !== null ? `uri ${r.uri}` : '', r.lang !== null ? `lang ${r.lang}` : '']
    .filter(Boolean)
    .join(', ');
  const head =
    `version ${r.version}: ${r.total.toLocaleString('en-US')} chunks${filters ? ` matching ${filters}` : ''}` +
    (r.total > r.chunks.length ? `, showing the first ${r.chunks.length} (--limit)` : '');
  if (r.chunks.length === 0) return head;
  const table = renderTable(
    ['id', 'uri', 'lines', 'lang'],
    r.chunks.map((c) => [
      String(c.id),
      c.uri ?? '',
      c.start_line === null ? '' : `${c.start_line}-${c.end_line ?? ''}`,
      c.lang ?? '',
    ]),
    out,
    { align: ['right', 'left', 'left', 'left'] },
  );
  return `${head}\n${table}`;
}
