/**
 * Every command and flag, declared once as data: this table drives commander, `--help` and
 * docs/cli.md (scripts/gen-cli-doc.js). Command modules are imported lazily, so `--help` and
 * `--version` load no FAISS, DuckDB or wasm.
 */
import type { CommandContext, CommandOutput } from './commands/context.js';

export interface OptionSpec {
  flags: string;
  description: string;
  defaultValue?: string | boolean;
}

export interface CommandSpec {
  name: string;
  args: string[];
  summary: string;
  options: OptionSpec[];
  examples: string[];
  load: () => Promise<{ run: (ctx: CommandContext) => Promise<CommandOutput> }>;
}

export const globalOptions: OptionSpec[] = [
  { flags: '--root <dir>', description: 'index root (default: $INDEXCTL_ROOT or ./index)' },
  { flags: '--json', description: 'print one JSON document on stdout; logs stay on stderr' },
  { flags: '--quiet', description: 'no progress or informational output on stderr' },
  { flags: '--threads <n>', description: 'FAISS/OpenMP threads (default: all cores)' },
  { flags: '--verbose', description: 'stack traces for internal errors' },
];

export const commands: CommandSpec[] = [
  {
    name: 'doctor',
    args: [],
    summary: 'load the FAISS addon, build and search a small index, and report which FAISS is linked',
    options: [],
    examples: ['indexctl doctor', 'indexctl doctor --json'],
    load: () => import('./commands/doctor.js'),
  },
];
