/**
 * A build holds the writer lock only to seal its version (docs/spec.md "Writer lock"): while it
 * fills its staging directory, rollback, publish, pin and gc run at once, other builds run too, and
 * of two builds of the same name the second to seal exits 3 with nothing half-written. The build
 * is a real CLI subprocess held mid-work by the `build:index-written:stop` failpoint (SIGSTOP right
 * after faiss.index is written), so "it was still running when they finished" holds on any machine.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, it } from 'node:test';

import { gc } from '../src/core/lifecycle/gc.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { BUILDER_FILE, scanStaging } from '../src/core/layout.js';
import { verify } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { bin, runCli, type CliResult } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, currentTarget } from './helpers/versions.js';

const dir = tmpDir();
const chunks = path.join(dir, 'big.parquet');
await writeChunks(chunks, { rows: 40_000, dim: 32 });

interface Background {
  pid: number;
  done: Promise<CliResult>;
  exited: () => boolean;
}

/** `indexctl build` in the background, stopped (SIGSTOP) once its faiss.index is in staging/. */
async function stoppedBuild(root: string, version: string): Promise<Background> {
  const child = spawn(
    process.execPath,
    [bin, '--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', '--version', version],
    { env: { ...process.env, NO_COLOR: '1', INDEXCTL_FAILPOINT: 'build:index-written:stop' } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exited = false;
  const done = new Promise<CliResult>((resolve) =>
    child.on('exit', (code) => {
      exited = true;
      resolve({ code, stdout, stderr });
    }),
  );
  const pid = child.pid!;
  // Polls the process state until it is stopped (T); no time limit but the test runner's.
  while (!exited && processState(pid) !== 'T') await sleep(50);
  assert.equal(exited, false, `the build ended before its failpoint: ${stderr}`);
  return { pid, done, exited: () => exited };
}

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

async function resume(b: Background): Promise<CliResult> {
  process.kill(b.pid, 'SIGCONT');
  return b.done;
}

/** A stopped child must not outlive a failed assertion. */
function cleanup(b: Background | undefined): void {
  if (b && !b.exited()) {
    process.kill(b.pid, 'SIGKILL');
    process.kill(b.pid, 'SIGCONT');
  }
}

const staging = (root: string): string[] => readdirSync(path.join(root, 'staging')).sort();
const versions = (root: string): string[] => readdirSync(path.join(root, 'versions')).sort();

describe('a running build does not block the lifecycle', () => {
  it('rollback, publish, pin and gc --yes exit 0 while a build runs; the build then seals', async () => {
    const root = path.join(dir, 'life');
    await buildVersions(root, [
      { name: 'a', rows: 300, dim: 8 },
      { name: 'b', rows: 300, dim: 8 },
    ]);
    await publish({ root, version: 'a', reason: 'setup' });
    await publish({ root, version: 'b', reason: 'setup' });
    // A crashed build's debris, which gc must still remove.
    mkdirSync(path.join(root, 'staging', 'dead.999999.0badc0de'));
    let b: Background | undefined;
    try {
      b = await stoppedBuild(root, 'nightly');
      const live = staging(root).filter((n) => n.startsWith('nightly.'));
      assert.equal(live.length, 1, staging(root).join(', '));
      const commands = [
        ['rollback', '--reason', 'emergency'],
        ['publish', 'b', '--reason', 'back again'],
        ['pin', 'a'],
        ['gc', '--yes', '--keep', '0'],
      ];
      for (const args of commands) {
        const res = runCli(['--root', root, ...args]);
        assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
        assert.equal(b.exited(), false, `the build ended before ${args[0]} finished`);
        assert.equal(processState(b.pid), 'T', `${args[0]}: the build is no longer mid-work`);
      }
      assert.equal(currentTarget(root), 'versions/b');
      // gc removed the dead builder's directory and kept the live one.
      assert.deepEqual(staging(root), live);
      const built = await resume(b);
      assert.equal(built.code, 0, built.stderr);
    } finally {
      cleanup(b);
    }
    assert.deepEqual(versions(root), ['a', 'b', 'nightly']);
    assert.deepEqual(staging(root), []);
    assert.equal((await verify({ root, version: 'nightly', level: 2 })).ok, true);
  });

  it('two builds of different names both succeed', async () => {
    const root = path.join(dir, 'two');
    await buildVersions(root, [{ name: 'seed', rows: 300, dim: 8 }]);
    let first: Background | undefined;
    try {
      first = await stoppedBuild(root, 'one');
      const second = runCli([
        '--root',
        root,
        'build',
        '--chunks',
        chunks,
        '--factory',
        'Flat',
        '--version',
        'two',
      ]);
      assert.equal(second.code, 0, second.stderr);
      assert.equal(first.exited(), false);
      const res = await resume(first);
      assert.equal(res.code, 0, res.stderr);
    } finally {
      cleanup(first);
    }
    assert.deepEqual(versions(root), ['one', 'seed', 'two']);
    assert.deepEqual(staging(root), []);
  });

  it('two builds of the same name: the second to seal exits 3, nothing half-written', async () => {
    const root = path.join(dir, 'same');
    await buildVersions(root, [{ name: 'seed', rows: 300, dim: 8 }]);
    let first: Background | undefined;
    let late: CliResult;
    try {
      first = await stoppedBuild(root, 'dup');
      const second = runCli([
        '--root',
        root,
        'build',
        '--chunks',
        chunks,
        '--factory',
        'Flat',
        '--version',
        'dup',
      ]);
      assert.equal(second.code, 0, second.stderr);
      late = await resume(first);
    } finally {
      cleanup(first);
    }
    assert.equal(late.code, 3, late.stderr);
    assert.match(
      late.stderr,
      /version dup already exists in .*versions \(another build of that name sealed it/,
    );
    assert.deepEqual(versions(root), ['dup', 'seed']);
    assert.deepEqual(staging(root), []);
    assert.equal((await verify({ root, version: 'dup', level: 2 })).ok, true);
    // Still refused up front when the name is taken before the build starts (exit 2).
    const again = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      chunks,
      '--factory',
      'Flat',
      '--version',
      'dup',
    ]);
    assert.equal(again.code, 2, again.stderr);
    assert.match(again.stderr, /already exists/);
  });
});

describe('staging directories and their builders', () => {
  it('gc keeps a build of another host and removes this host debris by builder identity', async () => {
    const root = path.join(dir, 'hosts');
    await buildVersions(root, [{ name: 'seed', rows: 300, dim: 8 }]);
    const make = (name: string, builder: object | undefined): void => {
      mkdirSync(path.join(root, 'staging', name));
      if (builder) writeFileSync(path.join(root, 'staging', name, BUILDER_FILE), JSON.stringify(builder));
    };
    // Another host's live build: its pid means nothing here.
    make('remote.999999.00000001', { host: 'another-host.example', pid: 999999 });
    // This host, the pid alive (this test) but a different process instance: a reused pid.
    make(`reused.${process.pid}.00000002`, {
      host: (await import('node:os')).hostname(),
      pid: process.pid,
      pidStart: '1',
    });
    // This host, no identity file, pid gone.
    make('old.999999.00000003', undefined);
    assert.deepEqual(
      scanStaging(root).stale.map((s) => s.name),
      [`old.999999.00000003`, `reused.${process.pid}.00000002`],
    );
    await gc({ root, yes: true });
    assert.deepEqual(staging(root), ['remote.999999.00000001']);
    assert.equal(existsSync(path.join(root, 'versions', 'seed')), true);
  });
});
