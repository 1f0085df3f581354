import { sampleChunks, type SampleResult } from '../core/sample/sample-chunks.js';
import type { CommandOptions, sample as sampleCommand } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type SampleJson = SampleResult & { schema: 'indexctl.sample/1'; ms: number };

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export async function run(ctx: CommandContext<CommandOptions<typeof sampleCommand>>): Promise<CommandOutput> {
  const { from, out, dim } = ctx.options;
  const started = performance.now();
  const result = await sampleChunks({ from, out, dim });
  const ms = Math.round(performance.now() - started);
  const { skipped } = result;
  const skippedTotal = skipped.binary + skipped.tooLarge + skipped.symlinks + skipped.special + skipped.empty;
  if (skippedTotal > 0) {
    ctx.log(
      `skipped ${skipped.binary} binary, ${skipped.tooLarge} over 1 MiB, ${skipped.symlinks} symlinks, ` +
        `${skipped.special} special, ${skipped.empty} without text`,
    );
  }
  const json: SampleJson = { schema: 'indexctl.sample/1', ...result, ms };
  const text =
    `sampled ${result.chunks} chunks from ${result.files} files (dim ${result.dim}) ` +
    `-> ${result.out} (${mib(result.bytes)}) in ${(ms / 1000).toFixed(1)} s`;
  return { json, render: () => text };
}
