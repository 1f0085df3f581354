/**
 * Operators stay in control (issue 11): SIGINT (Ctrl-C through a real pseudo-terminal's line
 * discipline, with the spinner on screen), SIGTERM and SIGHUP end build, tune, verify and publish
 * promptly with one line and 128 + signo, remove the staging directory, release the writer lock and
 * publish nothing; terminals of 0 or 1 columns and TERM=dumb cannot hang a build; progress shows a
 * percentage; --quiet prints nothing but the result.
 *
 * The bound on the time from signal to exit is generous (a loaded machine) but it is a bound: the
 * requirement is 2 s, the implementation's grace period 0.6 s, kept by the exit guard's thread (under load:
 * signals-load.test.ts; a main thread that never yields: exit-guard.test.ts).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { before, describe, it } from 'node:test';

import { readCurrent } from '../src/core/layout.js';
import { packageRoot } from '../src/core/util/paths.js';
import { writeChunks } from './helpers/chunks.js';
import { bin, runCli } from './helpers/cli.js';
import { plain, runInPty, type PtyResult } from './helpers/pty.js';
import { tmpDir } from './helpers/tmp.js';

const BOUND_SECONDS = 6;

let dir: string;
let root: string;
let big: string;
let small: string;

function versions(): string[] {
  return readdirSync(path.join(root, 'versions')).sort();
}

function staging(): string[] {
  const d = path.join(root, 'staging');
  return existsSync(d) ? readdirSync(d) : [];
}

function publishLog(): string {
  return readFileSync(path.join(root, 'publish.log'), 'utf8');
}

/** Exit code, one line naming the command and the signal, nothing published, nothing left. */
function assertInterrupted(
  r: PtyResult | { code: number; output: string; afterSend: number },
  what: RegExp,
  code: number,
  signal: string,
): void {
  assert.equal(r.code, code, plain(r.output));
  assert.ok(r.afterSend !== null && r.afterSend < BOUND_SECONDS, `ended ${r.afterSend} s after the signal`);
  const lines = plain(r.output)
    .split('\n')
    .filter((l) => l.includes('interrupted'));
  assert.equal(lines.length, 1, plain(r.output));
  assert.match(lines[0]!, what);
  assert.match(lines[0]!, new RegExp(`interrupted by ${signal}; nothing was published`));
  assert.equal(existsSync(path.join(root, '.lock')), false, 'the writer lock was released');
  assert.deepEqual(staging(), [], 'the staging directory was removed');
}

describe('signals, tiny terminals, progress and --quiet in a real pseudo-terminal', () => {
  // Here, not in before(): tmpDir registers the after() hook that removes it with the suite.
  dir = tmpDir();
  before(async () => {
    root = path.join(dir, 'index');
    big = path.join(dir, 'big.parquet');
    small = path.join(dir, 'small.parquet');
    // Large enough that a build runs for seconds: the signal lands mid-build.
    await writeChunks(big, { rows: 200_000, dim: 64, rowGroupSize: 8192 });
    await writeChunks(small, { rows: 3000, dim: 16 });
    const ivf = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      big,
      '--factory',
      'IVF64,Flat',
      '--version',
      'v1',
    ]);
    assert.equal(ivf.code, 0, ivf.stderr);
    const flat = runCli(['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v2']);
    assert.equal(flat.code, 0, flat.stderr);
    const pub = runCli(['--root', root, 'publish', 'v1']);
    assert.equal(pub.code, 0, pub.stderr);
  });

  it('Ctrl-C stops a build with the spinner on screen: 130, one line, no version, no staging, no lock', () => {
    const r = runInPty({
      args: ['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v3'],
      // Held after the first batch (src/core/util/failpoint.ts holdpoint): mid-build on any machine.
      env: { INDEXCTL_FAILPOINT: 'build:adding:hold' },
      waitFor: 'add \\d+%',
      send: 'ctrl-c',
    });
    assertInterrupted(r, /^indexctl: build interrupted/, 130, 'SIGINT');
    assert.deepEqual(versions(), ['v1', 'v2']);
    assert.equal(readCurrent(root), 'v1');
  });

  it('Ctrl-C while the CLI modules load: 130 and the line, not death by SIGINT', () => {
    // The load of dist/src/cli.js is held (a busy machine takes a second or more for it); the
    // signal lands before the CLI has installed its handlers.
    const r = runInPty({
      args: ['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v4'],
      env: {
        NODE_OPTIONS: `--import ${path.join(packageRoot, 'dist/test/helpers/slow-cli-load.js')}`,
        SLOW_CLI_MS: '500',
      },
      waitFor: 'slow-cli-load: holding',
      send: 'ctrl-c',
    });
    assertInterrupted(r, /indexctl: build interrupted/, 130, 'SIGINT');
    assert.deepEqual(versions(), ['v1', 'v2']);
  });

  it('Ctrl-C while the CLI modules evaluate (the loop not turning): 130, not ignored', () => {
    // The signal reaches libuv while the main thread runs cli.js's body; it is handed to JavaScript
    // only at the next turn of the loop, after the import. The shim's holding listeners were
    // removed before the CLI's were added, which closed libuv's handle with the signal still
    // pending in it: the build ran to the end and exited 0 (seen in CI under load).
    const r = runInPty({
      args: ['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v5'],
      env: {
        NODE_OPTIONS: `--import ${path.join(packageRoot, 'dist/test/helpers/slow-cli-load.js')}`,
        SLOW_CLI_MS: '1000',
        SLOW_CLI_PHASE: 'evaluate',
      },
      waitFor: 'slow-cli-load: evaluating',
      send: 'ctrl-c',
    });
    assertInterrupted(r, /indexctl: build interrupted/, 130, 'SIGINT');
    assert.deepEqual(versions(), ['v1', 'v2']);
  });

  it('SIGTERM stops a build in a pipe (no terminal): 143', async () => {
    const child = spawn(
      process.execPath,
      [bin, '--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v3'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, INDEXCTL_FAILPOINT: 'build:adding:hold' } },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let ended = false;
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code) => {
        ended = true;
        resolve(code);
      }),
    );
    // Once the staging directory exists, the build is under way.
    while (staging().length === 0 && !ended) await sleep(20);
    assert.equal(ended, false, `the build ended before it was signalled: ${stderr}`);
    const sent = performance.now();
    child.kill('SIGTERM');
    const code = await exited;
    const afterSend = (performance.now() - sent) / 1000;
    assertInterrupted(
      { code: code ?? -1, output: stderr, afterSend },
      /^indexctl: build interrupted/,
      143,
      'SIGTERM',
    );
    assert.deepEqual(versions(), ['v1', 'v2']);
  });

  it('Ctrl-C stops tune during the sweep: 130', () => {
    const r = runInPty({
      args: ['--root', root, 'tune', 'v1', '--sample', '300'],
      env: { INDEXCTL_FAILPOINT: 'tune:sweeping:hold' },
      waitFor: 'sweep',
      send: 'ctrl-c',
    });
    assertInterrupted(r, /^indexctl: tune v1 interrupted/, 130, 'SIGINT');
  });

  it('SIGHUP stops verify (the probe is killed): 129', () => {
    const r = runInPty({
      args: ['--root', root, 'verify', 'v2', '--level', '3'],
      // Parked after faiss.index is hashed: mid-verify however fast the machine hashes.
      env: { INDEXCTL_FAILPOINT: 'verify:hashing:hold' },
      waitFor: 'verify: ',
      send: 'SIGHUP',
    });
    assertInterrupted(r, /^indexctl: verify v2 interrupted/, 129, 'SIGHUP');
  });

  it('SIGTERM during publish leaves CURRENT and publish.log as they were: 143', () => {
    const log = publishLog();
    const r = runInPty({
      args: ['--root', root, 'publish', 'v2'],
      env: { INDEXCTL_FAILPOINT: 'verify:hashing:hold' },
      waitFor: 'verify: ',
      send: 'SIGTERM',
    });
    assertInterrupted(r, /^indexctl: publish v2 interrupted/, 143, 'SIGTERM');
    assert.equal(readCurrent(root), 'v1');
    assert.equal(publishLog(), log);
  });

  for (const [name, cols, env] of [
    ['0 columns', 0, {}],
    ['1 column', 1, {}],
    ['TERM=dumb', 100, { TERM: 'dumb' }],
  ] as const) {
    it(`a build on a terminal of ${name} completes promptly with bounded output`, () => {
      const r = runInPty({
        args: ['--root', root, 'build', '--chunks', small, '--factory', 'Flat', '--dry-run'],
        cols,
        env,
        timeout: 120,
      });
      assert.equal(r.timedOut, false);
      assert.equal(r.code, 0, plain(r.output));
      assert.ok(r.bytes < 4096, `${r.bytes} bytes written`);
      const real = runInPty({
        args: [
          '--root',
          root,
          'build',
          '--chunks',
          small,
          '--factory',
          'Flat',
          '--version',
          `tiny-${cols}-${name.length}`,
        ],
        cols,
        env,
        timeout: 120,
      });
      assert.equal(real.timedOut, false);
      assert.equal(real.code, 0, plain(real.output));
      assert.ok(real.bytes < 16384, `${real.bytes} bytes written`);
    });
  }

  it('SIGTERM works on a 0-column terminal', () => {
    const r = runInPty({
      args: ['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v3'],
      cols: 0,
      env: { INDEXCTL_FAILPOINT: 'build:adding:hold' },
      delay: 2.5,
      send: 'SIGTERM',
    });
    assertInterrupted(r, /^indexctl: build interrupted/, 143, 'SIGTERM');
    assert.equal(r.bytes < 4096, true, `${r.bytes} bytes written`);
  });

  it('verify shows a percentage while hashing, and build while adding', () => {
    // Each is held 1.5 s mid-work, so the spinner draws a frame however fast the machine is.
    const v = runInPty({
      args: ['--root', root, 'verify', 'v2', '--level', '1'],
      env: { INDEXCTL_FAILPOINT: 'verify:hashing:hold=1500' },
    });
    assert.equal(v.code, 0, plain(v.output));
    assert.match(plain(v.output), /verify: checksums \d+%: [\d.]+ [KMG]iB of [\d.]+ [KMG]iB/);
    const b = runInPty({
      args: ['--root', root, 'build', '--chunks', big, '--factory', 'Flat', '--version', 'v4'],
      env: { INDEXCTL_FAILPOINT: 'build:adding:hold=1500' },
    });
    assert.equal(b.code, 0, plain(b.output));
    assert.match(plain(b.output), /add \d+%: [\d,]+ vectors of 200,000 vectors/);
  });

  it('--quiet prints nothing on stderr; publish --quiet prints nothing at all', () => {
    const out = path.join(dir, 'stdout.txt');
    const v = runInPty({
      args: ['--root', root, 'verify', 'v2', '--level', '1', '--quiet'],
      stdoutFile: out,
    });
    assert.equal(v.code, 0);
    assert.equal(v.output, '', 'stderr');
    assert.match(readFileSync(out, 'utf8'), /verify v2 level 1: ok/);
    const p = runInPty({ args: ['--root', root, 'publish', 'v4', '--quiet'], stdoutFile: out });
    assert.equal(p.code, 0, p.output);
    assert.equal(p.output, '', 'stderr');
    assert.equal(readFileSync(out, 'utf8'), '', 'stdout');
    assert.equal(readCurrent(root), 'v4');
  });
});
