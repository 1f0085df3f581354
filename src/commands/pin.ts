import { pin, unpin, type PinReport } from '../core/lifecycle/pins.js';
import type { CommandContext, CommandOutput } from './context.js';
import { optionalInt } from './options.js';

export type PinJson = PinReport & { schema: 'indexctl.pin/1' };

/** Shared by pin and unpin (src/commands/unpin.ts). */
export async function runPin(ctx: CommandContext, action: 'pin' | 'unpin'): Promise<CommandOutput> {
  const wait = optionalInt(ctx.options, 'wait', 0);
  const options = {
    root: ctx.globals.root,
    version: ctx.args[0]!,
    ...(wait !== undefined ? { waitSeconds: wait } : {}),
  };
  const report = action === 'pin' ? await pin(options) : await unpin(options);
  const json: PinJson = { schema: 'indexctl.pin/1', ...report };
  const state = report.pinned ? 'pinned' : 'not pinned';
  const text = `${report.version} ${report.changed ? `is now ${state}` : `was already ${state}`}; pins: ${
    report.pins.length > 0 ? report.pins.join(', ') : '(none)'
  }`;
  return { json, text };
}

export function run(ctx: CommandContext): Promise<CommandOutput> {
  return runPin(ctx, 'pin');
}
