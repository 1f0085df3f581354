/**
 * The exit guard (native/exit_guard.cc, src/core/exit-guard.ts): a cancelled process ends at its
 * deadline even when its main thread never comes back to the event loop, and takes its staging
 * directory and writer lock with it. Reproduces what signals-load.test.ts saw on a busy machine
 * (a build's signal handler ran 1.9 s after SIGTERM, behind a synchronous stretch), with a main
 * thread that spins for 60 s: without the guard the process ends only after the spin ("spun").
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';

import { hasNativeFileHash } from '../src/core/hash-addon.js';
import { tmpDir } from './helpers/tmp.js';

const CHILD = path.join(import.meta.dirname, 'helpers', 'guard-child.js');

interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string[];
  stderr: string;
  ready: { armed: boolean; staging: string; lock: string };
}

/** Starts the child in `mode`, sends `signals` once it is spinning, and waits for its end. */
async function spinAndSignal(mode: string, signals: NodeJS.Signals[]): Promise<Ended> {
  const root = path.join(tmpDir('indexctl-exit-guard-'), 'index');
  const child = spawn(process.execPath, [CHILD, root, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const stdout: string[] = [];
  const ended = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.on('close', (code, signal) => resolve([code, signal])),
  );
  let ready: Ended['ready'] | undefined;
  for await (const line of createInterface({ input: child.stdout })) {
    stdout.push(line);
    const event = JSON.parse(line) as { event: string } & Ended['ready'];
    if (event.event !== 'ready') continue;
    ready = event;
    for (const sig of signals) {
      child.kill(sig);
      // Apart, so that they are two signals, not one coalesced pending signal.
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  const [code, signal] = await ended;
  assert.ok(ready, `the child never got ready: ${stderr}`);
  return { code, signal, stdout, stderr, ready };
}

describe('the exit guard ends a process whose main thread is stuck', { skip: !hasNativeFileHash() }, () => {
  it('SIGTERM: ends at the grace deadline with 143, its line, staging and lock removed', async () => {
    const r = await spinAndSignal('cli', ['SIGTERM']);
    assert.equal(r.ready.armed, true);
    assert.deepEqual(r.stdout.slice(1), [], 'the spin never finished: the guard ended it');
    assert.equal(r.code, 143, r.stderr);
    assert.match(r.stderr, /guard: SIGTERM ended it/);
    assert.equal(existsSync(r.ready.staging), false, 'the staging directory was removed');
    assert.equal(existsSync(r.ready.lock), false, 'the writer lock was released');
  });

  it('SIGINT and SIGHUP: 130 and 129', async () => {
    for (const [sig, code] of [
      ['SIGINT', 130],
      ['SIGHUP', 129],
    ] as const) {
      const r = await spinAndSignal('cli', [sig]);
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`guard: ${sig} ended it`));
      assert.equal(existsSync(r.ready.staging), false);
    }
  });

  it('a second signal ends it at once, long before a 60 s grace', async () => {
    const r = await spinAndSignal('second', ['SIGINT', 'SIGINT']);
    assert.equal(r.ready.armed, true);
    assert.deepEqual(r.stdout.slice(1), []);
    assert.equal(r.code, 130, r.stderr);
    assert.equal(existsSync(r.ready.staging), false);
  });

  it('a lock that now carries another token (taken over) is left in place', async () => {
    const r = await spinAndSignal('taken', ['SIGTERM']);
    assert.equal(r.code, 143, r.stderr);
    assert.equal(existsSync(r.ready.staging), false);
    assert.match(readFileSync(r.ready.lock, 'utf8'), /someone-else/);
  });
});
