import { formatBytes } from '../core/util/units.js';
import { diff, type DiffReport } from '../core/lifecycle/diff.js';
import type { diff as diffCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { renderTable } from '../reporters/table.js';
import type { OutputStream } from '../reporters/terminal.js';

export type DiffJson = DiffReport & { schema: 'indexctl.diff/1' };

function ids(label: string, count: number, shown: string[]): string {
  if (count === 0) return `  ${label} 0`;
  return `  ${label} ${count.toLocaleString('en-US')}: ${shown.join(', ')}${count > shown.length ? ', ...' : ''}`;
}

function render(r: DiffReport, out: OutputStream): string {
  const rows = [
    ...r.fields.map((f) => [f.field, f.a, f.b, f.same ? '' : 'differs']),
    ['size', formatBytes(r.a.bytes), formatBytes(r.b.bytes), ''],
    ['created', r.a.created, r.b.created, ''],
    ...r.files.map((f) => [
      f.file,
      f.a?.checksum ?? '(absent)',
      f.b?.checksum ?? '(absent)',
      f.same ? '' : 'differs',
    ]),
  ];
  return [
    renderTable(['', r.a.version, r.b.version, ''], rows, out),
    `chunk ids (idmap): ${r.ids.a.toLocaleString('en-US')} -> ${r.ids.b.toLocaleString('en-US')}, ` +
      `${r.ids.common.toLocaleString('en-US')} in both`,
    ids('added  ', r.ids.added, r.ids.addedIds),
    ids('removed', r.ids.removed, r.ids.removedIds),
    r.sameData ? 'same data: chunks, idmap and index checksums agree' : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

export async function run(ctx: CommandContext<CommandOptions<typeof diffCommand>>): Promise<CommandOutput> {
  const report = await diff({
    root: ctx.globals.root,
    a: ctx.args[0]!,
    b: ctx.args[1]!,
    limit: ctx.options.limit,
  });
  const json: DiffJson = { schema: 'indexctl.diff/1', ...report };
  return { json, render: (out) => render(report, out) };
}
