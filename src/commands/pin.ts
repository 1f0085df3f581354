import { pin, unpin, type PinReport } from '../core/lifecycle/pins.js';
import type { pin as pinCommand, CommandOptions } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';

export type PinJson = PinReport & { schema: 'indexctl.pin/1' };

/** Shared by pin and unpin (src/commands/unpin.ts). */
export async function runPin(
  ctx: CommandContext<CommandOptions<typeof pinCommand>>,
  action: 'pin' | 'unpin',
): Promise<CommandOutput> {
  const options = { root: ctx.globals.root, version: ctx.args[0]!, waitSeconds: ctx.options.wait };
  const report = action === 'pin' ? await pin(options) : await unpin(options);
  const json: PinJson = { schema: 'indexctl.pin/1', ...report };
  const state = report.pinned ? 'pinned' : 'not pinned';
  const text = `${report.version} ${report.changed ? `is now ${state}` : `was already ${state}`}; pins: ${
    report.pins.length > 0 ? report.pins.join(', ') : '(none)'
  }`;
  return { json, render: () => text, quiet: '' };
}

export function run(ctx: CommandContext<CommandOptions<typeof pinCommand>>): Promise<CommandOutput> {
  return runPin(ctx, 'pin');
}
