import { rollback, type PublishReport } from '../core/lifecycle/publish.js';
import type { CommandContext, CommandOutput } from './context.js';
import { optionalInt, optionalString } from './options.js';
import { renderPublish } from './publish.js';

export type RollbackJson = PublishReport & { schema: 'indexctl.rollback/1' };

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  // Not optionalString: an empty --to is an invalid version name (exit 2), not an absent flag.
  const to = o.to === undefined ? undefined : String(o.to);
  const reason = optionalString(o, 'reason');
  const wait = optionalInt(o, 'wait', 0);
  const report = await rollback({
    root: ctx.globals.root,
    dryRun: Boolean(o.dryRun),
    ...(to !== undefined ? { to } : {}),
    ...(reason !== undefined ? { reason } : {}),
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
  });
  const json: RollbackJson = { schema: 'indexctl.rollback/1', ...report };
  return { json, text: renderPublish(report) };
}
