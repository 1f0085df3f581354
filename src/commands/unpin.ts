import type { CommandContext, CommandOutput } from './context.js';
import { runPin } from './pin.js';

export function run(ctx: CommandContext): Promise<CommandOutput> {
  return runPin(ctx, 'unpin');
}
