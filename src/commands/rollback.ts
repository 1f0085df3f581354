import { rollback, type PublishReport } from '../core/lifecycle/publish.js';
import type { rollback as rollbackCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { renderPublish } from './publish.js';

export type RollbackJson = PublishReport & { schema: 'indexctl.rollback/1' };

export async function run(
  ctx: CommandContext<CommandOptions<typeof rollbackCommand>>,
): Promise<CommandOutput> {
  const o = ctx.options;
  const report = await rollback({
    root: ctx.globals.root,
    dryRun: o.dryRun,
    // An empty --to is an invalid version name (exit 2), which rollback reports.
    to: o.to,
    reason: o.reason,
    waitSeconds: o.wait,
  });
  const json: RollbackJson = { schema: 'indexctl.rollback/1', ...report };
  return { json, render: () => renderPublish(report) };
}
