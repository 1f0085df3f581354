import { train, type TrainReport } from '../core/shard/train.js';
import type { train as trainCommand, CommandOptions } from '../cli-options.js';
import { progressLine } from '../reporters/progress.js';
import type { CommandContext, CommandOutput } from './context.js';

export type TrainJson = TrainReport & { schema: 'indexctl.train/1' };

type Options = CommandOptions<typeof trainCommand>;

export async function run(ctx: CommandContext<Options>): Promise<CommandOutput> {
  const o = ctx.options;
  const progress = await progressLine(ctx.io.stderr, ctx.globals);
  let report: TrainReport;
  try {
    report = await train({
      chunks: o.chunks,
      factory: o.factory,
      metric: o.metric,
      out: o.out,
      trainSample: o.trainSample,
      seed: o.seed,
      idColumn: o.idColumn,
      embeddingColumn: o.embeddingColumn,
      dim: o.dim,
      duckdb: ctx.globals.duckdb,
      onProgress: (phase, done, total) =>
        progress.update(phase, done, total, phase === 'sample' ? 'rows' : ''),
      signal: ctx.signal,
    });
  } finally {
    progress.stop();
  }
  const s = report.sidecar;
  const json: TrainJson = { schema: 'indexctl.train/1', ...report };
  return {
    json,
    render: () =>
      [
        `trained ${s.factory} (${s.metric}, d=${s.dim}) -> ${report.file}`,
        `  trained on ${s.train_rows === 0 ? 'nothing (the factory needs no training)' : `${s.train_rows.toLocaleString()} vectors, seed ${s.train_seed}`}`,
        `  ${s.bytes.toLocaleString()} bytes, ${s.checksum}; sidecar ${report.file}.json`,
        `  time ${report.seconds.toFixed(1)} s`,
      ].join('\n'),
    quiet: report.file,
  };
}
