import { EXPECT_NONE, publish, type PublishReport } from '../core/lifecycle/publish.js';
import type { publish as publishCommand, CommandOptions } from '../cli-options.js';
import { withProgress, type ProgressLine } from '../reporters/progress.js';
import type { CommandContext, CommandOutput } from './context.js';
import { verifyProgress } from './verify.js';

export type PublishJson = PublishReport & { schema: 'indexctl.publish/1' };

/** The human summary shared by publish and rollback. */
export function renderPublish(r: PublishReport): string {
  const from = r.from ?? '(none)';
  const verb = r.action === 'rollback' ? 'rolled back' : 'published';
  const head =
    r.outcome === 'published'
      ? `${verb} ${r.version}: CURRENT ${from} -> ${r.version}`
      : r.outcome === 'would-publish'
        ? `dry run: would ${r.action} ${r.version}: CURRENT ${from} -> ${r.version} (nothing changed)`
        : `${r.version} is already CURRENT: nothing to do`;
  const checks = r.verify.checks;
  const skipped = checks.filter((c) => c.outcome === 'skip').length;
  return [
    head,
    `  verify    level ${r.verify.level}: ${checks.length - skipped} checks passed` +
      `${skipped > 0 ? `, ${skipped} skipped` : ''} in ${r.verify.seconds.toFixed(1)} s`,
    ...(r.repaired !== null
      ? [`  ${r.outcome === 'published' ? 'repaired' : 'would fix'} CURRENT was broken: ${r.repaired}`]
      : []),
    ...(r.reason !== null ? [`  reason    ${r.reason}`] : []),
    ...(r.logEntry ? [`  logged    ${r.logEntry.ts} by ${r.logEntry.user}@${r.logEntry.host}`] : []),
    ...(r.lockWaitSeconds >= 0.05
      ? [`  waited    ${r.lockWaitSeconds.toFixed(1)} s for the writer lock`]
      : []),
  ].join('\n');
}

export async function run(
  ctx: CommandContext<CommandOptions<typeof publishCommand>>,
): Promise<CommandOutput> {
  const o = ctx.options;
  const report: PublishReport = await withProgress(ctx.io.stderr, ctx.globals, (progress) =>
    publish({
      root: ctx.globals.root,
      version: ctx.args[0]!,
      dryRun: o.dryRun,
      // An empty --expect-current is an invalid version name (exit 2), which publish reports.
      ...(o.expectCurrent !== undefined
        ? { expectCurrent: o.expectCurrent === EXPECT_NONE ? null : o.expectCurrent }
        : {}),
      reason: o.reason,
      waitSeconds: o.wait,
      ...gateOptions(ctx, progress),
    }),
  );
  const json: PublishJson = { schema: 'indexctl.publish/1', ...report };
  return { json, render: () => renderPublish(report), quiet: '' };
}

/** What publish and rollback pass to their verify gate: progress, cancellation, the edge's limits. */
export function gateOptions(ctx: CommandContext<unknown>, progress: ProgressLine) {
  return {
    onProgress: verifyProgress(progress),
    signal: ctx.signal,
    duckdb: ctx.globals.duckdb,
    probeEnv: ctx.globals.probeEnv,
  };
}
