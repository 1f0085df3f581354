import { exportIdMap, type ExportIdMapReport } from '../core/export-idmap.js';
import type { CommandContext, CommandOutput } from './context.js';
import { optionalInt, optionalString } from './options.js';

export type ExportIdMapJson = ExportIdMapReport & { schema: 'indexctl.export-idmap/1' };

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const out = optionalString(ctx.options, 'out');
  const wait = optionalInt(ctx.options, 'wait', 0);
  const report = await exportIdMap({
    root: ctx.globals.root,
    version: ctx.args[0]!,
    ...(out !== undefined ? { out } : {}),
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
  });
  const json: ExportIdMapJson = { schema: 'indexctl.export-idmap/1', ...report };
  return { json, text: `wrote ${report.rows.toLocaleString()} rows of ${report.className} -> ${report.out}` };
}
