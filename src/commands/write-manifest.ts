import { writeManifest, type WriteManifestReport } from '../core/adopt/write-manifest.js';
import type { writeManifest as writeManifestCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type WriteManifestJson = WriteManifestReport & { schema: 'indexctl.write-manifest/1' };

export async function run(
  ctx: CommandContext<CommandOptions<typeof writeManifestCommand>>,
): Promise<CommandOutput> {
  const o = ctx.options;
  const report = await writeManifest({
    root: ctx.globals.root,
    duckdb: ctx.globals.duckdb,
    version: ctx.args[0]!,
    attrs: o.attr ?? {},
    factory: o.factory,
    metric: o.metric,
    waitSeconds: o.wait,
  });
  const m = report.manifest;
  const json: WriteManifestJson = { schema: 'indexctl.write-manifest/1', ...report };
  const lines = [
    `sealed version ${report.version} (${m.faiss_factory}, ${m.metric}, ${m.vectors_count.toLocaleString()} x ${m.vec_dim})`,
    ...(report.derived.length > 0 ? [`  derived ${report.derived.join(', ')}`] : []),
    ...Object.entries(m.files).map(([name, f]) => `  ${name.padEnd(15)} ${f.checksum}`),
  ];
  return { json, render: () => lines.join('\n') };
}
