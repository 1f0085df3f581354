import { exportIdMap, type ExportIdMapReport } from '../core/adopt/export-idmap.js';
import type { exportIdmap, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type ExportIdMapJson = ExportIdMapReport & { schema: 'indexctl.export-idmap/1' };

export async function run(ctx: CommandContext<CommandOptions<typeof exportIdmap>>): Promise<CommandOutput> {
  const report = await exportIdMap({
    root: ctx.globals.root,
    version: ctx.args[0]!,
    out: ctx.options.out,
    waitSeconds: ctx.options.wait,
  });
  const json: ExportIdMapJson = { schema: 'indexctl.export-idmap/1', ...report };
  return {
    json,
    render: () => `wrote ${report.rows.toLocaleString()} rows of ${report.className} -> ${report.out}`,
  };
}
