import { mergeShards, type MergeReport } from '../core/shard/merge.js';
import type { merge as mergeCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type MergeJson = MergeReport & { schema: 'indexctl.merge/1' };

type Options = CommandOptions<typeof mergeCommand>;

export async function run(ctx: CommandContext<Options>): Promise<CommandOutput> {
  const o = ctx.options;
  ctx.log(`checking ${ctx.args.length} shard director${ctx.args.length === 1 ? 'y' : 'ies'}`);
  const report = await mergeShards({
    root: ctx.globals.root,
    shards: ctx.args,
    version: o.version,
    chunks: o.chunks,
    materialize: o.materialize,
    linkChunks: o.linkChunks,
    waitSeconds: o.wait,
    duckdb: ctx.globals.duckdb,
    signal: ctx.signal,
  });
  const json: MergeJson = { schema: 'indexctl.merge/1', ...report };
  return {
    json,
    render: () =>
      [
        `merged ${report.shards} shards into version ${report.version} -> ${report.dir}`,
        `  vectors   ${report.vectors.toLocaleString()}, factory ${report.manifest.faiss_factory}`,
        `  time      ${Object.entries(report.seconds)
          .map(([k, v]) => `${k} ${v.toFixed(1)} s`)
          .join(', ')}`,
      ].join('\n'),
    quiet: report.version,
  };
}
