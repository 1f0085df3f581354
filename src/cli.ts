/**
 * argv -> typed options -> lazy import of one command -> print -> exit code. The only place that
 * decides exit codes; everything below throws typed errors (src/core/errors.ts).
 *
 * Parsing and running are separate steps: `parseArgv` turns argv into the command's typed options
 * (commander applies each flag's parser, default, choices and conflicts from src/cli-options.ts)
 * without loading any command, so tests can check argv -> options in process for every command.
 */
import path from 'node:path';

import { Command, CommanderError, Option } from 'commander';

import { keyOf, type OptionSpec } from './cli/option-spec.js';
import { commands, globalOptions, type CommandSpec, type GlobalFlags } from './cli-options.js';
import { checkMetricsFile, writeMetricsFile, type CommandResult } from './cli/metrics-file.js';
import { defaultOpenMpWaitPolicy } from './cli/openmp-env.js';
import type { CommandContext, CommandOutput, GlobalOptions } from './commands/context.js';
import { versionLine } from './core/build-info.js';
import { asEnvironmentIoError } from './core/util/env-io.js';
import { setExitGuardLine } from './core/exit-guard.js';
import { ExitCode, IndexctlError, InterruptedError, UsageError } from './core/errors.js';
import { integer, sizeBytes } from './cli/parsers.js';
import { GRACE_MS, hardExit, installSignalHandlers } from './cli/signals.js';
import { outputMode, processIo, type CliIo } from './reporters/terminal.js';

export type { CliIo } from './reporters/terminal.js';

/** A command line understood: which command, its arguments, its typed options and the globals. */
export interface ParsedCommand {
  spec: CommandSpec;
  args: string[];
  options: Record<string, unknown>;
  globals: GlobalOptions;
}

function addOption(cmd: Command, spec: OptionSpec): void {
  const option = new Option(spec.flags, spec.description);
  if (spec.kind === 'value') {
    // .choices() installs its own parser; ours (which also types the value) goes on after it.
    if (spec.choices) option.choices(spec.choices);
    option.argParser(spec.parse as (value: string, previous: unknown) => unknown);
    if (spec.presence === 'defaulted') option.default(spec.defaultValue, spec.defaultLabel);
    if (spec.presence === 'required') option.makeOptionMandatory();
  }
  if (spec.conflicts) option.conflicts([...spec.conflicts]);
  cmd.addOption(option);
}

/** Switches commander leaves undefined when absent become false, so a command reads a boolean. */
function typedOptions(specs: readonly OptionSpec[], raw: Record<string, unknown>): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const spec of specs) {
    const key = keyOf(spec.flags);
    options[key] = spec.kind === 'switch' ? raw[key] === true : raw[key];
  }
  return options;
}

/** A flag's value, else its environment variable parsed by the same parser (a bad value: exit 2). */
function flagOrEnv<T>(flag: T | undefined, env: string, parse: (raw: string) => T): T | undefined {
  if (flag !== undefined) return flag;
  const raw = process.env[env];
  if (raw === undefined || raw === '') return undefined;
  try {
    return parse(raw);
  } catch (err) {
    throw new UsageError(`${env}=${JSON.stringify(raw)}: ${(err as Error).message}`);
  }
}

function globalsOf(raw: GlobalFlags): GlobalOptions {
  const memoryLimit = flagOrEnv(raw.duckdbMemory, 'INDEXCTL_DUCKDB_MEMORY', sizeBytes);
  const threads = flagOrEnv(raw.duckdbThreads, 'INDEXCTL_DUCKDB_THREADS', integer(1, 1024));
  return {
    root: path.resolve(raw.root ?? process.env.INDEXCTL_ROOT ?? 'index'),
    json: raw.json,
    quiet: raw.quiet,
    verbose: raw.verbose,
    ...(raw.threads !== undefined ? { threads: raw.threads } : {}),
    duckdb: {
      ...(memoryLimit !== undefined ? { memoryLimit } : {}),
      ...(threads !== undefined ? { threads } : {}),
    },
    // Read here and parsed by verify, which says which bound a bad value was for.
    probeEnv: {
      ...(process.env.INDEXCTL_PROBE_TIMEOUT !== undefined
        ? { timeout: process.env.INDEXCTL_PROBE_TIMEOUT }
        : {}),
      ...(process.env.INDEXCTL_PROBE_MEMORY !== undefined
        ? { memory: process.env.INDEXCTL_PROBE_MEMORY }
        : {}),
    },
  };
}

function program(io: CliIo, found: (parsed: ParsedCommand) => void): Command {
  const output = { writeOut: (t: string) => io.stdout.write(t), writeErr: (t: string) => io.stderr.write(t) };
  const root = new Command('indexctl')
    .description('Build, verify, tune and publish a FAISS + DuckDB code-search vector index.')
    .version(versionLine(), '-V, --version', 'print the version of indexctl and of the FAISS it links')
    .configureOutput(output)
    // One error line (with commander's "Did you mean ...?"), then where to look, not the whole help.
    .showHelpAfterError("(run 'indexctl --help' for the commands)")
    // Root options only before the command name, so `build --version V` is build's option; the
    // global options are declared on every command too, so they work after it as well.
    .enablePositionalOptions()
    .exitOverride();
  for (const spec of globalOptions) addOption(root, spec);
  for (const spec of commands) {
    const cmd = root
      .command(spec.name)
      .description(spec.summary)
      .configureOutput(output)
      .showHelpAfterError(`(run 'indexctl ${spec.name} --help' for its options)`)
      .exitOverride();
    for (const alias of spec.aliases ?? []) cmd.alias(alias);
    for (const arg of spec.args) cmd.argument(arg);
    for (const option of globalOptions) addOption(cmd, option);
    for (const option of spec.options) addOption(cmd, option);
    if (spec.examples.length > 0) {
      cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}`);
    }
    cmd.action((...params: unknown[]) => {
      const raw = cmd.optsWithGlobals();
      found({
        spec,
        // A variadic argument (`<dir...>`) arrives as an array.
        args: params
          .slice(0, spec.args.length)
          .flat()
          .filter((a): a is string => typeof a === 'string'),
        options: typedOptions(spec.options, raw),
        globals: globalsOf(typedOptions(globalOptions, raw) as GlobalFlags),
      });
    });
  }
  root.addHelpText(
    'after',
    `\nExit codes: 0 ok, 1 internal, 2 usage, 3 invariant, 4 corruption, 5 bad input, 6 not found, ` +
      `74 I/O refused by the environment (permissions, read-only or full disk, EIO), 75 lock held, ` +
      `129/130/143 cancelled by SIGHUP/SIGINT/SIGTERM (nothing published).`,
  );
  return root;
}

/** Nothing to run: 0 after --help / --version, 2 after a usage error (already printed). */
export interface ParseStop {
  exitCode: number;
  message: string;
}

/** argv (without node and the script) -> the command and its typed options, or why nothing runs. */
export async function parseArgv(argv: string[], io: CliIo = processIo()): Promise<ParsedCommand | ParseStop> {
  let parsed: ParsedCommand | undefined;
  try {
    await program(io, (p) => (parsed = p)).parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      return { exitCode: err.exitCode === 0 ? ExitCode.ok : ExitCode.usage, message: err.message };
    }
    throw err;
  }
  // Only a root without a command gets here without one; commander printed the help.
  return parsed ?? { exitCode: ExitCode.usage, message: 'no command given' };
}

/** The exit code `main` gives for what a command threw. */
function exitCodeOf(caught: unknown): number {
  const err = asEnvironmentIoError(caught) ?? caught;
  return err instanceof IndexctlError ? err.exitCode : ExitCode.internal;
}

/**
 * The after-run hook: called with the command's result or its error, whatever the outcome, before
 * `main` prints the error and returns. It writes `--metrics-file`; a file it cannot write is a
 * warning on stderr and leaves the exit code alone (the command's effect has happened).
 */
async function afterRun(
  parsed: ParsedCommand,
  io: CliIo,
  result: Omit<CommandResult, 'command' | 'finishedAt'>,
): Promise<void> {
  const file = parsed.options.metricsFile;
  if (typeof file !== 'string') return;
  try {
    await writeMetricsFile(path.resolve(file), {
      command: parsed.spec.name,
      finishedAt: new Date(),
      ...result,
    });
  } catch (err) {
    io.stderr.write(`indexctl: warning: --metrics-file ${file} not written: ${(err as Error).message}\n`);
  }
}

/** What a signal stopped, for the one line the operator reads: `build`, `publish v2`. */
function describeCommand(parsed: ParsedCommand): string {
  return [parsed.spec.name, ...parsed.args].join(' ');
}

/**
 * The one line of a cancelled command. `late`: the grace period ran out, the line comes from the
 * runner's timer ('timer': staging may be left for gc) or from the exit guard's thread ('guard': it
 * removed the staging directory and the lock itself; the signal's name is filled in there).
 */
function interruptedLine(what: string, signal: string, late?: 'timer' | 'guard'): string {
  const within = `within ${GRACE_MS / 1000} s`;
  const tail = {
    none: '',
    timer: ` (cleanup did not finish ${within}; a staging directory left behind is removed by the next build or gc)`,
    guard: ` (it had not stopped ${within}; its staging directory and writer lock were removed as it exited)`,
  }[late ?? 'none'];
  return `indexctl: ${what} interrupted by ${signal}; nothing was published${tail}\n`;
}

async function runCommand(parsed: ParsedCommand, io: CliIo, signal: AbortSignal): Promise<number> {
  const { globals } = parsed;
  if (typeof parsed.options.metricsFile === 'string') checkMetricsFile(parsed.options.metricsFile);
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  let output: CommandOutput;
  try {
    output = await execute(parsed, io, signal);
  } catch (err) {
    const exitCode =
      signal.aborted && signal.reason instanceof InterruptedError ? signal.reason.exitCode : exitCodeOf(err);
    await afterRun(parsed, io, { exitCode, seconds: seconds(), error: err });
    throw err;
  }
  // A command that speaks on stdout itself (serve's MCP channel) prints no result document.
  if (!output.stdoutTaken) {
    const text =
      outputMode(io.stdout, globals.json) === 'json'
        ? JSON.stringify(output.json, null, 2)
        : globals.quiet && output.quiet !== undefined
          ? output.quiet
          : output.render(io.stdout);
    if (text !== '') io.stdout.write(`${text}\n`);
  }
  const exitCode = output.exitCode ?? ExitCode.ok;
  await afterRun(parsed, io, { exitCode, seconds: seconds(), output });
  return exitCode;
}

async function execute(parsed: ParsedCommand, io: CliIo, signal: AbortSignal): Promise<CommandOutput> {
  const { globals } = parsed;
  const ctx: CommandContext = {
    args: parsed.args,
    options: parsed.options,
    globals,
    io,
    signal,
    log: (line) => {
      if (!globals.quiet && !globals.json) io.stderr.write(`${line}\n`);
    },
  };
  if (globals.threads !== undefined) {
    const { FaissIndex } = await import('./core/faiss/index.js');
    FaissIndex.setNumThreads(globals.threads);
  }
  const module = await parsed.spec.load();
  // Loading a command's modules (DuckDB, Arrow, wasm) blocks for a second or more on a busy
  // machine: a signal that came meanwhile stops it here, before any work starts.
  signal.throwIfAborted();
  return module.run(ctx);
}

/**
 * The process entry point (bin/indexctl.js): main() with SIGINT, SIGTERM and SIGHUP turned into
 * cancellation (src/cli/signals.ts). After a signal the process ends as soon as the command has
 * cleaned up, with 128 + signo, even if some handle (a FAISS batch, a probe) would keep it alive.
 */
/**
 * The CLI as a process: `held` are the signals that arrived while its modules loaded (bin/indexctl.js
 * holds them); they are delivered to the handlers installed here, before any work.
 */
export async function runProcess(argv: string[], held: readonly string[] = []): Promise<number> {
  defaultOpenMpWaitPolicy(process.env);
  const io = processIo();
  const cancellation = installSignalHandlers((text) => io.stderr.write(text));
  for (const signal of held) process.emit(signal as NodeJS.Signals, signal as NodeJS.Signals);
  const code = await main(argv, io, cancellation);
  cancellation.dispose();
  if (cancellation.signal.aborted) hardExit(code);
  return code;
}

/** Ties main() to a signal source; in-process callers pass none and are never cancelled. */
interface Cancellable {
  signal: AbortSignal;
  lastWords?: () => string;
}

export async function main(
  argv: string[],
  io: CliIo = processIo(),
  cancellation: Cancellable = { signal: new AbortController().signal },
): Promise<number> {
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  const { signal } = cancellation;
  let what = 'the command';
  setExitGuardLine(interruptedLine(what, '%SIGNAL%', 'guard'));
  // If the grace period runs out, the one line is printed from there instead of from here.
  let said = false;
  cancellation.lastWords = () => {
    if (said || !(signal.reason instanceof InterruptedError)) return '';
    said = true;
    return interruptedLine(what, signal.reason.signal, 'timer');
  };
  try {
    const parsed = await parseArgv(argv, io);
    if (!('spec' in parsed)) {
      if (parsed.exitCode === ExitCode.usage && json) {
        writeErrorDocument(io, ExitCode.usage, 'UsageError', parsed.message);
      }
      return parsed.exitCode;
    }
    what = describeCommand(parsed);
    setExitGuardLine(interruptedLine(what, '%SIGNAL%', 'guard'));
    return await runCommand(parsed, io, signal);
  } catch (caught) {
    // Once cancelled, whatever the command threw on its way out (a killed probe, an aborted read)
    // is the interruption: one line, and 128 + signo.
    if (signal.aborted && signal.reason instanceof InterruptedError) {
      const err = signal.reason;
      if (!said) {
        setExitGuardLine('');
        io.stderr.write(interruptedLine(what, err.signal));
      }
      said = true;
      if (json)
        writeErrorDocument(io, err.exitCode, err.name, `${what} ${err.message}; nothing was published`);
      return err.exitCode;
    }
    // Last resort for a write no core guard wrapped: an errno error naming its path is the
    // environment (exit 74), not a bug.
    const err = asEnvironmentIoError(caught) ?? caught;
    if (err instanceof IndexctlError) {
      io.stderr.write(`indexctl: ${err.message}\n`);
      if (verbose && err.exitCode === ExitCode.internal && err.stack) io.stderr.write(`${err.stack}\n`);
      if (json) writeErrorDocument(io, err.exitCode, err.name, err.message);
      return err.exitCode;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    io.stderr.write(`indexctl: internal error: ${error.message}\n`);
    if (verbose && error.stack) io.stderr.write(`${error.stack}\n`);
    if (json) writeErrorDocument(io, ExitCode.internal, 'InternalError', error.message);
    return ExitCode.internal;
  }
}

/**
 * With --json a failed command still prints its one document, so a script reading stdout gets the
 * exit code and the message it can act on instead of an empty string. The message is on stderr too.
 */
function writeErrorDocument(io: CliIo, exitCode: number, error: string, message: string): void {
  io.stdout.write(`${JSON.stringify({ schema: 'indexctl.error/1', exitCode, error, message }, null, 2)}\n`);
}
