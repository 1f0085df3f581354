/** Runs the built bin (bin/indexctl.js) as a subprocess, as operators and cron scripts do. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { packageRoot } from '../../src/core/util/paths.js';

export const bin = path.join(packageRoot, 'bin/indexctl.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    nodeArgs?: string[];
    cwd?: string;
    prefix?: string[];
    /** Kill the run after this many ms (a hang then shows as code null, not a stuck suite). */
    timeoutMs?: number;
  } = {},
): CliResult {
  // `prefix` runs node through another command (setpriv, to run without some capabilities).
  const argv = [process.execPath, ...(options.nodeArgs ?? []), bin, ...args];
  const [command, ...rest] = [...(options.prefix ?? []), ...argv];
  const res = spawnSync(command!, rest, {
    encoding: 'utf8',
    cwd: options.cwd,
    ...(options.timeoutMs !== undefined
      ? { timeout: options.timeoutMs, killSignal: 'SIGKILL' as const }
      : {}),
    env: { ...process.env, NO_COLOR: '1', ...options.env },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

/** `indexctl --root ROOT build --chunks FILE --factory Flat ...extra`. */
export function buildCli(root: string, chunks: string, ...extra: string[]): CliResult {
  return runCli(['--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', ...extra]);
}
