/**
 * argv -> typed options -> lazy import of one command -> print -> exit code. The only place that
 * decides exit codes; everything below throws typed errors (src/core/errors.ts).
 */
import path from 'node:path';

import { Command, CommanderError, Option } from 'commander';

import { commands, globalOptions, type CommandSpec, type OptionSpec } from './cli-options.js';
import type { CommandContext, GlobalOptions } from './commands/context.js';
import { versionLine } from './core/build-info.js';
import { asEnvironmentIoError } from './core/env-io.js';
import { ExitCode, IndexctlError, UsageError } from './core/errors.js';

function addOption(cmd: Command, spec: OptionSpec): void {
  const option = new Option(spec.flags, spec.description);
  if (spec.defaultValue !== undefined) option.default(spec.defaultValue);
  cmd.addOption(option);
}

function parseGlobals(raw: Record<string, unknown>): GlobalOptions {
  const globals: GlobalOptions = {
    root: path.resolve(String(raw.root ?? process.env.INDEXCTL_ROOT ?? 'index')),
    json: Boolean(raw.json),
    quiet: Boolean(raw.quiet),
    verbose: Boolean(raw.verbose),
  };
  if (raw.threads !== undefined) {
    const threads = Number(raw.threads);
    if (!Number.isInteger(threads) || threads < 1) {
      throw new UsageError(`--threads must be a positive integer, got ${String(raw.threads)}`);
    }
    globals.threads = threads;
  }
  return globals;
}

async function runCommand(spec: CommandSpec, cmd: Command, args: string[]): Promise<number> {
  const globals = parseGlobals(cmd.optsWithGlobals());
  const ctx: CommandContext = {
    args,
    options: cmd.opts(),
    globals,
    log: (line) => {
      if (!globals.quiet && !globals.json) process.stderr.write(`${line}\n`);
    },
  };
  if (globals.threads !== undefined) {
    const { FaissIndex } = await import('./core/faiss/index.js');
    FaissIndex.setNumThreads(globals.threads);
  }
  const module = await spec.load();
  const output = await module.run(ctx);
  process.stdout.write(globals.json ? `${JSON.stringify(output.json, null, 2)}\n` : `${output.text}\n`);
  return output.exitCode ?? ExitCode.ok;
}

function program(setExit: (code: number) => void): Command {
  const root = new Command('indexctl')
    .description('Build, verify, tune and publish a FAISS + DuckDB code-search vector index.')
    .version(versionLine(), '-V, --version', 'print the version of indexctl and of the FAISS it links')
    .showHelpAfterError()
    // Root options only before the command name, so `build --version V` is build's option; the
    // global options are declared on every command too, so they work after it as well.
    .enablePositionalOptions()
    .exitOverride();
  for (const spec of globalOptions) addOption(root, spec);
  for (const spec of commands) {
    const cmd = root.command(spec.name).description(spec.summary).exitOverride();
    for (const arg of spec.args) cmd.argument(arg);
    for (const option of globalOptions) addOption(cmd, option);
    for (const option of spec.options) addOption(cmd, option);
    if (spec.examples.length > 0) {
      cmd.addHelpText('after', `\nExamples:\n${spec.examples.map((e) => `  $ ${e}`).join('\n')}`);
    }
    cmd.action(async (...params: unknown[]) => {
      const args = params.slice(0, spec.args.length).filter((a): a is string => typeof a === 'string');
      setExit(await runCommand(spec, cmd, args));
    });
  }
  root.addHelpText(
    'after',
    `\nExit codes: 0 ok, 1 internal, 2 usage, 3 invariant, 4 corruption, 5 bad input, 6 not found, ` +
      `74 I/O refused by the environment (permissions, read-only or full disk, EIO), 75 lock held.`,
  );
  return root;
}

export async function main(argv: string[]): Promise<number> {
  let exitCode: number = ExitCode.ok;
  const verbose = argv.includes('--verbose');
  const json = argv.includes('--json');
  try {
    await program((code) => (exitCode = code)).parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (caught) {
    // Last resort for a write no core guard wrapped: an errno error naming its path is the
    // environment (exit 74), not a bug.
    const err = asEnvironmentIoError(caught) ?? caught;
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage errors were already printed by commander.
      if (err.exitCode === 0) return ExitCode.ok;
      if (json) writeErrorDocument(ExitCode.usage, 'UsageError', err.message);
      return ExitCode.usage;
    }
    if (err instanceof IndexctlError) {
      process.stderr.write(`indexctl: ${err.message}\n`);
      if (verbose && err.exitCode === ExitCode.internal && err.stack) process.stderr.write(`${err.stack}\n`);
      if (json) writeErrorDocument(err.exitCode, err.name, err.message);
      return err.exitCode;
    }
    const error = err instanceof Error ? err : new Error(String(err));
    process.stderr.write(`indexctl: internal error: ${error.message}\n`);
    if (verbose && error.stack) process.stderr.write(`${error.stack}\n`);
    if (json) writeErrorDocument(ExitCode.internal, 'InternalError', error.message);
    return ExitCode.internal;
  }
}

/**
 * With --json a failed command still prints its one document, so a script reading stdout gets the
 * exit code and the message it can act on instead of an empty string. The message is on stderr too.
 */
function writeErrorDocument(exitCode: number, error: string, message: string): void {
  process.stdout.write(
    `${JSON.stringify({ schema: 'indexctl.error/1', exitCode, error, message }, null, 2)}\n`,
  );
}
