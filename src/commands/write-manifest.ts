import { parseAttr, writeManifest, type WriteManifestReport } from '../core/adopt.js';
import type { CommandContext, CommandOutput } from './context.js';
import { oneOf, optionalInt, optionalString } from './options.js';

export type WriteManifestJson = WriteManifestReport & { schema: 'indexctl.write-manifest/1' };

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const o = ctx.options;
  const factory = optionalString(o, 'factory');
  const wait = optionalInt(o, 'wait', 0);
  const attrs = Object.fromEntries(((o.attr as string[] | undefined) ?? []).map(parseAttr));
  const report = await writeManifest({
    root: ctx.globals.root,
    version: ctx.args[0]!,
    attrs,
    ...(factory !== undefined ? { factory } : {}),
    ...(o.metric !== undefined ? { metric: oneOf(o, 'metric', ['l2', 'ip', 'cosine'] as const, 'l2') } : {}),
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
  });
  const m = report.manifest;
  const json: WriteManifestJson = { schema: 'indexctl.write-manifest/1', ...report };
  const lines = [
    `sealed version ${report.version} (${m.faiss_factory}, ${m.metric}, ${m.vectors_count.toLocaleString()} x ${m.vec_dim})`,
    ...(report.derived.length > 0 ? [`  derived ${report.derived.join(', ')}`] : []),
    ...Object.entries(m.files).map(([name, f]) => `  ${name.padEnd(15)} ${f.checksum}`),
  ];
  return { json, text: lines.join('\n') };
}
