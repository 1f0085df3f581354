#!/usr/bin/env node
// A shim: the CLI lives in dist/src/cli.js (compiled from src/cli.ts).
import { runProcess } from '../dist/src/cli.js';

// A reader that stops early (`indexctl list | head -3`) ends the output quietly, as `ls | head` does,
// instead of an unhandled EPIPE stack trace; the command's own exit code stands.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await runProcess(process.argv.slice(2));
