import type { CommandOptions, unpin } from '../cli-options.js';
import type { CommandContext, CommandOutput } from './context.js';
import { runPin } from './pin.js';

export function run(ctx: CommandContext<CommandOptions<typeof unpin>>): Promise<CommandOutput> {
  return runPin(ctx, 'unpin');
}
