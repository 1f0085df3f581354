#!/usr/bin/env node
// A shim: the CLI lives in dist/src/cli.js (compiled from src/cli.ts).
import { main } from '../dist/src/cli.js';

process.exitCode = await main(process.argv.slice(2));
