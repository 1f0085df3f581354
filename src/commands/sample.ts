import { UsageError } from '../core/errors.js';
import { sampleChunks, type SampleResult } from '../core/sample/sample-chunks.js';
import type { CommandContext, CommandOutput } from './context.js';

export type SampleJson = SampleResult & { schema: 'indexctl.sample/1'; ms: number };

function requiredPath(options: Record<string, unknown>, name: string): string {
  const value = options[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`sample: --${name} is required`);
  return value;
}

function dimOption(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const dim = Number(value);
  if (typeof value !== 'string' || !/^\d+$/.test(value) || !Number.isSafeInteger(dim)) {
    throw new UsageError(`--dim must be a positive integer, got ${String(value)}`);
  }
  return dim;
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

export async function run(ctx: CommandContext): Promise<CommandOutput> {
  const from = requiredPath(ctx.options, 'from');
  const out = requiredPath(ctx.options, 'out');
  const dim = dimOption(ctx.options.dim);
  const started = performance.now();
  const result = await sampleChunks({ from, out, ...(dim === undefined ? {} : { dim }) });
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
  return { json, text };
}
