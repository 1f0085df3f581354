import { build, type BuildReport, type MetadataColumn } from '../core/build/build.js';
import { formatBytes, parseSize } from '../core/build/plan.js';
import { publish, type PublishReport } from '../core/lifecycle/publish.js';
import type { CommandContext, CommandOutput } from './context.js';
import { oneOf, optionalInt, optionalString, requiredString } from './options.js';
import { progressLine } from './progress.js';
import { renderPublish } from './publish.js';

export type BuildJson = BuildReport & {
  schema: 'indexctl.build/1';
  /** With --publish: the publish that followed. */
  publish?: PublishReport;
};

const UNITS = {
  sample: 'rows',
  train: 'vectors',
  add: 'vectors',
  write: 'files',
  checksum: 'bytes',
  commit: '',
};

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  const budget = optionalString(o, 'memoryBudget');
  const progress = await progressLine(ctx.globals);
  let report: BuildReport;
  try {
    report = await build({
      root: ctx.globals.root,
      chunks: requiredString(o, 'chunks', 'build'),
      factory: optionalString(o, 'factory') ?? 'auto',
      metric: oneOf(o, 'metric', ['l2', 'ip', 'cosine'] as const, 'l2'),
      materialize: Boolean(o.materialize),
      linkChunks: Boolean(o.linkChunks),
      dryRun: Boolean(o.dryRun),
      ...optional('version', optionalString(o, 'version')),
      ...optional('trainSample', optionalInt(o, 'trainSample')),
      ...optional('memoryBudgetBytes', budget === undefined ? undefined : parseSize(budget)),
      ...optional('idColumn', optionalString(o, 'idColumn')),
      ...optional('embeddingColumn', optionalString(o, 'embeddingColumn')),
      metadataColumns: metadataColumns(o),
      ...optional('dim', optionalInt(o, 'dim')),
      ...optional('waitSeconds', optionalInt(o, 'wait', 0)),
      ...optional('seed', optionalInt(o, 'seed', 0)),
      onProgress: (e) => progress.update(e.phase, e.done, e.total, UNITS[e.phase]),
    });
  } finally {
    progress.stop();
  }
  if (o.publish && !report.dryRun) {
    const published = await publish({
      root: ctx.globals.root,
      version: report.version,
      reason: 'build --publish',
      ...optional('waitSeconds', optionalInt(o, 'wait', 0)),
    });
    const json: BuildJson = { schema: 'indexctl.build/1', ...report, publish: published };
    return { json, text: `${render(report)}\n${renderPublish(published)}` };
  }
  const json: BuildJson = { schema: 'indexctl.build/1', ...report };
  return { json, text: render(report) };
}

/** The hydration columns the flags rename (defaults are left out: the file's names are canonical). */
function metadataColumns(o: Record<string, unknown>): Partial<Record<MetadataColumn, string>> {
  const flags: Record<MetadataColumn, string> = {
    uri: 'uriColumn',
    lang: 'langColumn',
    start_line: 'startLineColumn',
    end_line: 'endLineColumn',
  };
  const out: Partial<Record<MetadataColumn, string>> = {};
  for (const [column, flag] of Object.entries(flags) as [MetadataColumn, string][]) {
    const name = optionalString(o, flag);
    if (name !== undefined && name !== column) out[column] = name;
  }
  return out;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function render(r: BuildReport): string {
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
    const t = Object.entries(r.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`);
    lines.push(`  time      ${t.join(', ')}`);
  }
  return lines.join('\n');
}
