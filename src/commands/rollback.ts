import { rollback, type PublishReport } from '../core/lifecycle/publish.js';
import type { rollback as rollbackCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { gateOptions, renderPublish } from './publish.js';
import { withProgress } from '../reporters/progress.js';

export type RollbackJson = PublishReport & { schema: 'indexctl.rollback/1' };

export async function run(
  ctx: CommandContext<CommandOptions<typeof rollbackCommand>>,
): Promise<CommandOutput> {
  const o = ctx.options;
  const report: PublishReport = await withProgress(ctx.io.stderr, ctx.globals, (progress) =>
    rollback({
      root: ctx.globals.root,
      dryRun: o.dryRun,
      // An empty --to is an invalid version name (exit 2), which rollback reports.
      to: o.to,
      reason: o.reason,
      waitSeconds: o.wait,
      ...gateOptions(ctx, progress),
    }),
  );
  const json: RollbackJson = { schema: 'indexctl.rollback/1', ...report };
  return { json, render: () => renderPublish(report), quiet: '' };
}
