/** `build --shard I/N --trained T --out DIR` and the --trained checks of an ordinary build. */
import { innerFactory } from '../core/build/factory.js';
import { UsageError } from '../core/errors.js';
import { buildShard } from '../core/shard/build-shard.js';
import type { ShardManifest } from '../core/shard/shard-manifest.js';
import { parseShard } from '../core/shard/split.js';
import { readTrained, type Trained } from '../core/shard/trained.js';
import type { build as buildCommand, CommandOptions } from '../cli-options.js';
import { progressLine } from '../reporters/progress.js';
import { metadataColumns } from './column-flags.js';
import type { CommandContext, CommandOutput } from './context.js';

type Options = CommandOptions<typeof buildCommand>;

export type ShardJson = ShardManifest & { schema: 'indexctl.shard/1'; dir: string };

/**
 * The trained file of `--trained`, checked against the flags: the factory (when given) must be the
 * one it was trained for, the metric is taken from it (a cosine index normalizes what it adds).
 */
export async function trainedFor(o: Options): Promise<Trained | undefined> {
  if (o.out !== undefined && o.shard === undefined)
    throw new UsageError('--out is the shard directory: it needs --shard I/N');
  if (o.trained === undefined) {
    if (o.shard !== undefined)
      throw new UsageError('--shard needs --trained (make it once with indexctl train)');
    return undefined;
  }
  const trained = await readTrained(o.trained);
  const s = trained.sidecar;
  if (o.factory !== 'auto' && innerFactory(o.factory) !== s.factory) {
    throw new UsageError(
      `--factory ${o.factory}: ${o.trained} was trained for ${s.factory} (leave --factory out with --trained)`,
    );
  }
  if (o.metric !== 'l2' && o.metric !== s.metric) {
    throw new UsageError(`--metric ${o.metric}: ${o.trained} was trained for metric ${s.metric}`);
  }
  return trained;
}

export async function runShard(ctx: CommandContext<Options>, trained: Trained): Promise<CommandOutput> {
  const o = ctx.options;
  const shard = parseShard(o.shard!);
  if (o.out === undefined) throw new UsageError('--shard needs --out DIR (the shard directory to write)');
  const progress = await progressLine(ctx.io.stderr, ctx.globals);
  let manifest: ShardManifest;
  try {
    manifest = await buildShard({
      chunks: o.chunks,
      trained,
      shard,
      out: o.out,
      idColumn: o.idColumn,
      embeddingColumn: o.embeddingColumn,
      metadataColumns: metadataColumns(o),
      duckdb: ctx.globals.duckdb,
      onProgress: (done, total) => progress.update('add', done, total, 'vectors'),
      signal: ctx.signal,
    });
  } finally {
    progress.stop();
  }
  const json: ShardJson = { ...manifest, dir: o.out };
  const input = manifest.inputs[0]!;
  return {
    json,
    render: () =>
      [
        `built shard ${manifest.shard}/${manifest.shards} -> ${o.out}`,
        `  vectors   ${manifest.vectors.toLocaleString()} of ${input.rows.toLocaleString()} (${input.row_groups.length} of ${input.row_groups_total} row groups)`,
        `  trained   ${manifest.trained.checksum} (${manifest.factory}, ${manifest.metric})`,
        ...Object.entries(manifest.files).map(([name, f]) => `  ${name.padEnd(15)} ${f.checksum}`),
      ].join('\n'),
    quiet: o.out,
  };
}
