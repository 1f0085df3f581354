#!/usr/bin/env node
// A shim: the CLI lives in dist/src/cli.js (compiled from src/cli.ts).

// Ctrl-C, SIGTERM or SIGHUP while the CLI's modules load (a second or more on a busy machine) are
// held here and handed to the CLI's own handlers once they are installed, so the command stops
// with its exit code and line instead of dying by the signal (docs/operations.md). Only node's own
// start-up, before this line, is left uncovered.
// A second signal ends the process at once, as it does later (a load that hangs stays stoppable).
const CODES = { SIGHUP: 129, SIGINT: 130, SIGTERM: 143 };
const early = [];
let handedOver = false;
const hold = (signal) => {
  // From the hand-over on, the CLI's handlers see every signal (the held ones re-emitted too).
  if (handedOver) return;
  if (early.length > 0) process.exit(CODES[signal]);
  early.push(signal);
};
for (const signal of Object.keys(CODES)) process.on(signal, hold);
const { runProcess } = await import('../dist/src/cli.js');

// A reader that stops early (`indexctl list | head -3`) ends the output quietly, as `ls | head` does,
// instead of an unhandled EPIPE stack trace; the command's own exit code stands.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// runProcess installs the CLI's handlers before its first await; only then are these removed. Removed
// before, the last listener of a signal closes libuv's handle for it, and a signal that arrived
// while cli.js's body ran (the loop not turning) is dropped with the handle: the command then runs
// to its end as if never interrupted. Kept until now, the handle stays open and the signal reaches
// the CLI's handler at the next turn.
handedOver = true;
const running = runProcess(process.argv.slice(2), early);
for (const signal of Object.keys(CODES)) process.off(signal, hold);
process.exitCode = await running;
