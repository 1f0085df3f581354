/**
 * Runs the CLI in a real pseudo-terminal (test/helpers/pty_run.py, Python's pty and termios), as an
 * operator's terminal does: Ctrl-C goes through the line discipline, the window size is whatever
 * the test sets (0 columns included), and the spinner sees a TTY.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

import { packageRoot } from '../../src/core/util/paths.js';
import { bin } from './cli.js';

const driver = path.join(packageRoot, 'test/helpers/pty_run.py');

export interface PtyRun {
  /** Command arguments after `node bin/indexctl.js`. */
  args: string[];
  env?: Record<string, string>;
  cols?: number;
  rows?: number;
  /** Send once the output matches this regex (a JavaScript regex source; Python reads it too). */
  waitFor?: string;
  /** Or send after this many seconds. */
  delay?: number;
  send?: 'ctrl-c' | 'SIGINT' | 'SIGTERM' | 'SIGHUP';
  /** Redirect stdout to this file, so the pty shows stderr alone. */
  stdoutFile?: string;
  /** The driver kills the command after this long (a hang is reported as timedOut). */
  timeout?: number;
}

export interface PtyResult {
  /** The exit code, or -N when signal N ended the process. */
  code: number;
  sent: boolean;
  /** Seconds from the send to the end of the process. */
  afterSend: number | null;
  seconds: number;
  timedOut: boolean;
  /** Bytes the command wrote to the terminal. */
  bytes: number;
  /** What it wrote (head and tail when long). */
  output: string;
}

export function runInPty(run: PtyRun): PtyResult {
  const spec = {
    argv: [process.execPath, bin, ...run.args],
    env: run.env ?? {},
    cols: run.cols ?? 100,
    rows: run.rows ?? 30,
    timeout: run.timeout ?? 180,
    ...(run.waitFor !== undefined ? { wait_for: run.waitFor } : {}),
    ...(run.delay !== undefined ? { delay: run.delay } : {}),
    ...(run.send !== undefined ? { send: run.send } : {}),
    ...(run.stdoutFile !== undefined ? { stdout_file: run.stdoutFile } : {}),
  };
  const res = spawnSync('python3', [driver, JSON.stringify(spec)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`pty driver failed (${res.status}): ${res.stderr}`);
  return JSON.parse(res.stdout) as PtyResult;
}

/**
 * The terminal output as lines, without escape sequences: a move to column 1 (how a spinner
 * redraws its line) starts a new line, the rest (colours, cursor hiding, line clears) is dropped.
 */
export function plain(output: string): string {
  return (
    output
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[1?G/g, '\n')
      // eslint-disable-next-line no-control-regex
      .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
      .replace(/\r/g, '')
  );
}
