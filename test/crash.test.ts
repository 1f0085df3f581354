/**
 * Crash tests: a `build` and a `publish` are SIGKILLed at every named point of their work (the
 * failpoints in src/core/util/failpoint.ts: after each file write, before and after each rename, around
 * the publish.log append, right after the lock is taken). After each kill, CURRENT still resolves to
 * a version that passes verify, versions/ holds only complete versions, and the next writer goes on
 * (the dead writer's lock is taken over, its staging debris removed).
 */
import assert from 'node:assert/strict';
import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import type { FailpointName } from '../src/core/util/failpoint.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { verify } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { buildCli, runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions } from './helpers/versions.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: 300, dim: 8 });

function current(root: string): string {
  return path.basename(readlinkSync(path.join(root, 'CURRENT')));
}

/** The invariants every kill must leave behind. */
async function assertIntact(root: string, context: string): Promise<void> {
  const report = await verify({ root, current: true, level: 2 });
  assert.equal(
    report.ok,
    true,
    `${context}: CURRENT=${current(root)} fails verify: ${JSON.stringify(report.checks.filter((c) => c.outcome === 'fail'))}`,
  );
  for (const version of readdirSync(path.join(root, 'versions'))) {
    const v = await verify({ root, version, level: 1 });
    assert.equal(v.ok, true, `${context}: versions/${version} is incomplete`);
  }
}

function killedAt(res: ReturnType<typeof runCli>, point: string): void {
  assert.equal(res.code, null, `${point}: expected a SIGKILL, got exit ${res.code}: ${res.stderr}`);
}

const BUILD_POINTS: FailpointName[] = [
  'lock:acquired',
  'build:index-written',
  'build:idmap-written',
  'build:catalog-written',
  'build:manifest-written',
  'build:before-rename',
  'build:after-rename',
];

const PUBLISH_POINTS: FailpointName[] = [
  'lock:acquired',
  'publish:symlink-made',
  'publish:renamed',
  'publish:before-log',
  'publish:logged',
];

describe('SIGKILL during build', () => {
  it('leaves CURRENT verified and versions/ complete at every point, and the next build cleans up', async () => {
    const root = path.join(dir, 'build-root');
    await buildVersions(root, [{ name: 'base', rows: 300, dim: 8 }]);
    await publish({ root, version: 'base', reason: 'setup' });
    for (const [i, point] of BUILD_POINTS.entries()) {
      const res = runCli(
        ['--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', '--version', `k${i}`],
        {
          env: { INDEXCTL_FAILPOINT: point },
        },
      );
      killedAt(res, point);
      assert.equal(current(root), 'base', point);
      await assertIntact(root, point);
      const versions = readdirSync(path.join(root, 'versions'));
      assert.equal(
        versions.includes(`k${i}`),
        point === 'build:after-rename',
        `${point}: ${versions.join(', ')}`,
      );
    }
    // The next writer takes over the dead build's lock and removes its staging debris.
    const next = buildCli(root, chunks, '--version', 'after');
    assert.equal(next.code, 0, next.stderr);
    assert.deepEqual(readdirSync(path.join(root, 'staging')), []);
    await assertIntact(root, 'after');
  });
});

describe('SIGKILL during publish', () => {
  it('leaves CURRENT at the old or the new version, verified, at every point', async () => {
    const root = path.join(dir, 'publish-root');
    const names = PUBLISH_POINTS.map((_, i) => `p${i}`);
    await buildVersions(root, [
      { name: 'base', rows: 300, dim: 8 },
      ...names.map((name) => ({ name, rows: 300, dim: 8 })),
    ]);
    await publish({ root, version: 'base', reason: 'setup' });
    for (const [i, point] of PUBLISH_POINTS.entries()) {
      const before = current(root);
      const res = runCli(['--root', root, 'publish', names[i]!, '--reason', `crash at ${point}`], {
        env: { INDEXCTL_FAILPOINT: point },
      });
      killedAt(res, point);
      const after = current(root);
      assert.ok(after === before || after === names[i], `${point}: CURRENT is ${after}`);
      // Before the rename CURRENT must not have moved; from the rename on it has.
      const flipped = ['publish:renamed', 'publish:before-log', 'publish:logged'].includes(point);
      assert.equal(after, flipped ? names[i] : before, point);
      await assertIntact(root, point);
    }
    const again = runCli(['--root', root, 'publish', 'base', '--reason', 'after the crashes']);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(current(root), 'base');
  });
});
