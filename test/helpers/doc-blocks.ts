/**
 * Runs a shell block of a docs/ page as written, so the page cannot drift from what works: the
 * first ```sh block under a heading, run by bash with `indexctl` on PATH (a wrapper around this
 * checkout's bin) and the block's `: "${VAR:=default}"` variables set by the test.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { packageRoot } from '../../src/core/util/paths.js';
import { bin } from './cli.js';
import type { CliResult } from './cli.js';

/** The first ```sh block after the heading line `heading` in docs/`page`. */
export function docShellBlock(page: string, heading: string): string {
  const text = readFileSync(path.join(packageRoot, 'docs', page), 'utf8');
  const at = text.split('\n').findIndex((line) => line === heading);
  if (at < 0) throw new Error(`docs/${page}: no heading "${heading}"`);
  const rest = text
    .split('\n')
    .slice(at + 1)
    .join('\n');
  const m = /^```sh\n([\s\S]*?)^```$/m.exec(rest);
  if (!m) throw new Error(`docs/${page}: no sh block under "${heading}"`);
  return m[1]!;
}

/** A directory holding an `indexctl` command that runs this checkout's bin with this node. */
export function indexctlBinDir(dir: string): string {
  const binDir = path.join(dir, 'bin');
  mkdirSync(binDir, { recursive: true });
  const wrapper = path.join(binDir, 'indexctl');
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  writeFileSync(wrapper, `#!/bin/sh\nexec ${quote(process.execPath)} ${quote(bin)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return binDir;
}

/** Runs `script` with bash in `cwd`, `indexctl` first on PATH, `vars` in the environment. */
export function runShellBlock(
  script: string,
  options: { cwd: string; binDir: string; vars: Record<string, string>; env?: NodeJS.ProcessEnv },
): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), NO_COLOR: '1', ...options.vars };
  env.PATH = `${options.binDir}:${env.PATH ?? '/usr/bin:/bin'}`;
  const child = spawn('bash', ['-c', script], { cwd: options.cwd, env });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
