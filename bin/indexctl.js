#!/usr/bin/env node
// A shim: the CLI lives in dist/src/cli.js (compiled from src/cli.ts).

// Ctrl-C, SIGTERM or SIGHUP while the CLI's modules load (a second or more on a busy machine) are
// held here and handed to the CLI's own handlers once they are installed, so the command stops
// with its exit code and line instead of dying by the signal (docs/operations.md). Only node's own
// start-up, before this line, is left uncovered.
// A second signal ends the process at once, as it does later (a load that hangs stays stoppable).
const CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const early = [];
const hold = (signal) => {
  if (early.length > 0) process.exit(CODES[signal]);
  early.push(signal);
};
for (const signal of Object.keys(CODES)) process.on(signal, hold);
const { runProcess } = await import('../dist/src/cli.js');
for (const signal of Object.keys(CODES)) process.off(signal, hold);

// A reader that stops early (`indexctl list | head -3`) ends the output quietly, as `ls | head` does,
// instead of an unhandled EPIPE stack trace; the command's own exit code stands.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runProcess(process.argv.slice(2), early);
