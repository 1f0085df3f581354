import { build, type BuildReport } from '../core/build/build.js';
import { formatBytes } from '../core/util/units.js';
import { publish, type PublishReport } from '../core/lifecycle/publish.js';
import type { build as buildCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { withProgress } from '../reporters/progress.js';
import { renderPublish } from './publish.js';
import { runShard, trainedFor } from './build-shard.js';
import { metadataColumns } from './column-flags.js';
import { orderedStages } from '../core/build/stages.js';

export type BuildJson = BuildReport & {
  schema: 'indexctl.build/1';
  /** With --publish: the publish that followed. */
  publish?: PublishReport;
};

const UNITS = {
  diff: 'rows',
  sample: 'rows',
  train: 'vectors',
  add: 'vectors',
  write: 'files',
  checksum: 'bytes',
  commit: '',
};

type Options = CommandOptions<typeof buildCommand>;

export async function run(ctx: CommandContext<Options>): Promise<CommandOutput> {
  const o = ctx.options;
  const trained = await trainedFor(o);
  if (trained && o.shard !== undefined) return runShard(ctx, trained);
  const report: BuildReport = await withProgress(ctx.io.stderr, ctx.globals, (progress) =>
    build({
      root: ctx.globals.root,
      duckdb: ctx.globals.duckdb,
      chunks: o.chunks,
      factory: trained ? trained.sidecar.factory : o.factory,
      // With --base the metric is the base's: only a --metric other than the default is checked against it.
      ...(o.base !== undefined && o.metric === 'l2'
        ? {}
        : { metric: trained ? trained.sidecar.metric : o.metric }),
      ...(trained ? { trained } : {}),
      ...(o.base !== undefined ? { base: o.base } : {}),
      ...(o.driftThreshold !== undefined ? { driftThreshold: o.driftThreshold } : {}),
      retrainOnDrift: o.retrainOnDrift,
      materialize: o.materialize,
      linkChunks: o.linkChunks,
      dryRun: o.dryRun,
      version: o.version,
      trainSample: o.trainSample,
      memoryBudgetBytes: o.memoryBudget,
      idColumn: o.idColumn,
      embeddingColumn: o.embeddingColumn,
      metadataColumns: metadataColumns(o),
      dim: o.dim,
      waitSeconds: o.wait,
      seed: o.seed,
      onProgress: (e) => progress.update(e.phase, e.done, e.total, UNITS[e.phase]),
      signal: ctx.signal,
    }),
  );
  // Warnings are diagnostics: on stderr whatever the output mode, and in the report (--json).
  for (const warning of report.warnings) ctx.io.stderr.write(`warning: ${warning}\n`);
  if (o.publish && !report.dryRun) {
    const published = await publish({
      root: ctx.globals.root,
      version: report.version,
      reason: 'build --publish',
      waitSeconds: o.wait,
      signal: ctx.signal,
    });
    const json: BuildJson = { schema: 'indexctl.build/1', ...report, publish: published };
    return {
      json,
      render: () => `${render(report, ctx.globals.verbose)}\n${renderPublish(published)}`,
      quiet: report.version,
    };
  }
  const json: BuildJson = { schema: 'indexctl.build/1', ...report };
  // --quiet: the new version's name, for `v=$(indexctl build --quiet ...)`; a plan is the output itself.
  return {
    json,
    render: () => render(report, ctx.globals.verbose),
    ...(report.dryRun ? {} : { quiet: report.version }),
  };
}

function render(r: BuildReport, verbose: boolean): string {
  const p = r.plan;
  const lines = [
    `${r.dryRun ? 'plan for' : 'built'} version ${r.version}${r.dir ? ` -> ${r.dir}` : ''}`,
    `  factory   ${p.factory} (${p.reason}), metric ${p.metric}`,
    `  vectors   ${p.vectors.toLocaleString()} x ${p.dim}, train sample ${p.trainSample.toLocaleString()}`,
    `  estimate  index ${formatBytes(p.estimatedIndexBytes)}, peak memory ${formatBytes(p.estimatedPeakBytes)}, ` +
      `about ${Math.ceil(p.estimatedSeconds)} s` +
      (p.memoryBudgetBytes !== undefined ? ` (budget ${formatBytes(p.memoryBudgetBytes)})` : ''),
  ];
  if (r.manifest) {
    for (const [name, f] of Object.entries(r.manifest.files)) {
      lines.push(`  ${name.padEnd(15)} ${formatBytes(f.bytes).padStart(10)}  ${f.checksum}`);
    }
    if (verbose) lines.push(...stageLines(r.seconds));
    else lines.push(`  time      ${(r.seconds.total ?? 0).toFixed(1)} s (--verbose: each stage)`);
  }
  if (r.incremental) {
    const i = r.incremental;
    lines.push(
      `  base      ${i.base_version}: ${i.removed} removed, ${i.added} added, ${i.changed} changed, ${i.unchanged} unchanged` +
        (i.retrained ? ' (trained afresh: drift)' : ''),
    );
    if (i.drift) lines.push(`  drift     ${i.drift.ratio.toFixed(3)} (threshold ${i.drift.threshold})`);
  }
  return lines.join('\n');
}

/** --verbose: one line per stage (docs/build.md#stages); overlapping stages add up to more than total. */
function stageLines(seconds: Record<string, number>): string[] {
  const rows = orderedStages(seconds);
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    '  stages    seconds (some overlap others: see docs/build.md#stages)',
    ...rows.map(([k, v]) => `    ${k.padEnd(width)} ${v.toFixed(3).padStart(8)}`),
  ];
}
