/**
 * verify on sound versions: every check passes at every level for each index family, in the order
 * of docs/verify.md, from the library and the CLI; which version is verified (name, --current) and
 * every usage and not-found error. Damaged versions are in verify-corruption.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { IndexCorruptionError, NotFoundError, UsageError } from '../src/core/errors.js';
import { sampleRows } from '../src/core/verify/smoke.js';
import { CHECKS_BY_LEVEL, verify, type VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: 2000, dim: 16 });
const root = path.join(dir, 'root');
const VERSIONS = {
  flat: { factory: 'Flat', metric: 'l2' },
  ivf: { factory: 'IVF16,Flat', metric: 'cosine' },
  hnsw: { factory: 'HNSW16', metric: 'ip' },
} as const;
for (const [version, spec] of Object.entries(VERSIONS)) await build({ root, chunks, version, ...spec });

const FILES = ['chunks.parquet', 'faiss.index', 'idmap.parquet', 'catalog.duckdb'];

function failures(report: VerifyReport): string {
  return report.checks
    .filter((c) => c.outcome !== 'pass')
    .map((c) => `${c.name} ${c.target ?? ''} ${c.outcome}: ${c.detail}`)
    .join('\n');
}

/** Check names in report order, files.checksum once. */
function names(report: VerifyReport): string[] {
  return [...new Set(report.checks.map((c) => c.name))];
}

function cli(...args: string[]) {
  return runCli(['--root', root, 'verify', ...args]);
}

describe('verify: a sound version passes every check', () => {
  for (const version of Object.keys(VERSIONS)) {
    it(`${version}: level 3 runs every check, in order, and all pass`, async () => {
      const report = await verify({ root, version, level: 3 });
      assert.equal(report.ok, true, failures(report));
      assert.equal(report.exitCode, 0);
      assert.equal(report.version, version);
      assert.equal(report.dir, path.join(root, 'versions', version));
      assert.equal(report.level, 3);
      assert.deepEqual(names(report), [...CHECKS_BY_LEVEL[1], ...CHECKS_BY_LEVEL[2], ...CHECKS_BY_LEVEL[3]]);
      assert.deepEqual(
        report.checks.filter((c) => c.name === 'files.checksum').map((c) => c.target),
        FILES,
      );
      for (const c of report.checks) {
        assert.equal(c.outcome, 'pass');
        assert.equal(c.exitCode, undefined);
        // A check's time lies within the run's (seconds are rounded to 10 ms): catches a time in
        // the wrong unit or from another clock, which `ms >= 0` never could.
        assert.ok(Number.isFinite(c.ms) && c.ms >= 0, `${c.name} ms ${c.ms}`);
        assert.ok(c.ms <= report.seconds * 1000 + 10, `${c.name}: ${c.ms} ms in a ${report.seconds} s run`);
        assert.ok(c.detail.length > 0, `${c.name} detail`);
      }
      assert.ok(Number.isFinite(report.seconds));
    });
  }

  it('levels: 1 is the file checks, 2 adds index/idmap/catalog, 3 (the default) adds the smoke search', async () => {
    const one = await verify({ root, version: 'flat', level: 1 });
    assert.deepEqual(names(one), [...CHECKS_BY_LEVEL[1]]);
    const two = await verify({ root, version: 'flat', level: 2 });
    assert.equal(two.level, 2);
    assert.deepEqual(names(two), [...CHECKS_BY_LEVEL[1], ...CHECKS_BY_LEVEL[2]]);
    assert.equal(two.ok, true, failures(two));
    const byDefault = await verify({ root, version: 'flat' });
    assert.equal(byDefault.level, 3);
    assert.deepEqual(names(byDefault), [...CHECKS_BY_LEVEL[1], ...CHECKS_BY_LEVEL[2], ...CHECKS_BY_LEVEL[3]]);
    assert.equal(byDefault.ok, true, failures(byDefault));
  });

  it('details say what was compared', async () => {
    const report = await verify({ root, version: 'flat', level: 3 });
    const detail = (name: string, target?: string) =>
      report.checks.find((c) => c.name === name && (target === undefined || c.target === target))!.detail;
    assert.match(detail('files.checksum', 'faiss.index'), /^xxh64:[0-9a-f]{16} \(\d+ bytes\)$/);
    assert.match(detail('index.load'), /IndexIDMap2<IndexFlat(L2)?>, 2000 x 16/);
    assert.equal(detail('index.count'), 'ntotal = 2000 = manifest vectors_count');
    assert.equal(detail('idmap.order'), 'faiss_row = 0..1999');
    assert.equal(detail('index.params'), 'no tuning recorded; index holds no search parameters');
    assert.equal(detail('catalog.chunks_count'), '2000 chunks, ids unique, = vectors_count');
    assert.match(detail('smoke.1nn'), /recall@1 1\.000 \(200\/200 sampled, seed 0.*exact index/);
  });

  it('the smoke sample is seeded: the same seed draws the same rows, another seed others', async () => {
    assert.deepEqual(sampleRows(2000, 50, 7), sampleRows(2000, 50, 7));
    assert.notDeepEqual(sampleRows(2000, 50, 7), sampleRows(2000, 50, 8));
    const rows = sampleRows(2000, 50, 7);
    assert.equal(new Set(rows).size, 50);
    assert.ok(rows.every((r) => Number.isInteger(r) && r >= 0 && r < 2000));
    assert.deepEqual(sampleRows(5, 10, 1), [0, 1, 2, 3, 4]);
    const all = await verify({ root, version: 'ivf', level: 3, smoke: 5000, seed: 3 });
    assert.match(all.checks.at(-1)!.detail, /\(2000\/2000 sampled, seed 3/);
  });

  it('CLI --json: one document, schema indexctl.verify/1, exit 0', () => {
    const res = cli('hnsw', '--level', '3', '--smoke', '50', '--seed', '9', '--json');
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as VerifyReport & { schema: string };
    assert.equal(doc.schema, 'indexctl.verify/1');
    assert.equal(doc.ok, true);
    assert.equal(doc.exitCode, 0);
    assert.equal(doc.level, 3);
    assert.match(doc.checks.at(-1)!.detail, /\/50 sampled, seed 9/);
    assert.equal(res.stderr, '');
  });

  it('CLI text: one line per check and a summary, when stdout is not a terminal', () => {
    const res = cli('flat');
    assert.equal(res.code, 0, res.stderr);
    const lines = res.stdout.trim().split('\n');
    assert.match(
      lines[0]!,
      /^PASS\s+manifest\.schema\s+[\d.]+ ms\s+schema_version 1: IDMap2,Flat, l2, 2000 x 16/,
    );
    assert.ok(lines.some((l) => /^PASS\s+files\.checksum faiss\.index\s/.test(l)));
    assert.match(lines.at(-1)!, /^verify flat level 3: ok: 24 passed, 0 failed, 0 skipped in [\d.]+ s$/);
  });
});

describe('verify: which version', () => {
  it('--current verifies the version CURRENT points to', async () => {
    const other = path.join(dir, 'with-current');
    await build({ root: other, chunks, factory: 'Flat', version: 'v1' });
    symlinkSync('versions/v1', path.join(other, 'CURRENT'));
    const report = await verify({ root: other, current: true, level: 1 });
    assert.equal(report.version, 'v1');
    assert.equal(report.ok, true);
    const res = runCli(['--root', other, 'verify', '--current', '--json']);
    assert.equal(res.code, 0, res.stderr);
    assert.equal((JSON.parse(res.stdout) as VerifyReport).version, 'v1');
  });

  it('--current without CURRENT, a missing version and a missing root exit 6', async () => {
    await assert.rejects(verify({ root, current: true }), NotFoundError);
    await assert.rejects(verify({ root, version: 'nope' }), NotFoundError);
    await assert.rejects(verify({ root: path.join(dir, 'no-root'), version: 'flat' }), NotFoundError);
    const res = cli('--current');
    assert.equal(res.code, 6);
    assert.match(res.stderr, /no CURRENT in .*nothing has been published/);
    assert.equal(res.stdout, '');
    assert.equal(cli('nope').code, 6);
    assert.equal(runCli(['--root', path.join(dir, 'no-root'), 'verify', 'flat']).code, 6);
  });

  it('a CURRENT pointing outside versions/ is refused, never followed (4)', async () => {
    const hostile = path.join(dir, 'hostile');
    mkdirSync(path.join(hostile, 'versions'), { recursive: true });
    symlinkSync('../root/versions/flat', path.join(hostile, 'CURRENT'));
    await assert.rejects(verify({ root: hostile, current: true }), IndexCorruptionError);
    const res = runCli(['--root', hostile, 'verify', '--current']);
    assert.equal(res.code, 4);
    assert.match(res.stderr, /refusing to follow it/);
  });

  it('hostile version names are usage errors (2), refused before any file is touched', async () => {
    for (const name of ['..', '../root', 'a/b', '', '.hidden', 'x'.repeat(129), 'v1;rm -rf', '/etc']) {
      await assert.rejects(verify({ root, version: name }), UsageError, JSON.stringify(name));
      const res = cli(name);
      assert.equal(res.code, 2, `${JSON.stringify(name)}: ${res.stderr}`);
      assert.match(res.stderr, /invalid version name/);
    }
  });

  it('bad options are usage errors (2)', async () => {
    await assert.rejects(verify({ root, version: 'flat', level: 4 as 1 }), /level must be 1, 2 or 3/);
    await assert.rejects(verify({ root, version: 'flat', smoke: 0 }), /smoke sample size/);
    await assert.rejects(verify({ root, version: 'flat', seed: -1 }), /seed must be/);
    await assert.rejects(verify({ root, version: 'flat', current: true }), /not both/);
    await assert.rejects(verify({ root }), UsageError);
    for (const args of [
      ['flat', '--level', '4'],
      ['flat', '--level', 'x'],
      ['flat', '--smoke', '0'],
      ['flat', '--seed', '-1'],
      ['flat', '--current'],
      [],
      ['flat', '--bogus'],
    ]) {
      const res = cli(...args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    }
  });
});

describe('verify: the environment is not the index', () => {
  it('level 1 needs no FAISS; a missing addon at level 2 is an internal error (1), not corruption', () => {
    const env = { INDEXCTL_ADDON: path.join(dir, 'no-such-addon.node') };
    const one = runCli(['--root', root, 'verify', 'flat', '--level', '1'], { env });
    assert.equal(one.code, 0, one.stderr);
    const two = runCli(['--root', root, 'verify', 'flat'], { env });
    assert.equal(two.code, 1);
    assert.match(two.stderr, /could not load the indexctl FAISS addon/);
    assert.equal(two.stdout, '');
  });

  it('is exported by the library', async () => {
    const lib = await import('../src/index.js');
    assert.equal(lib.verify, verify);
    for (const name of [
      'build',
      'writeManifest',
      'exportIdMap',
      'sampleChunks',
      'publish',
      'tune',
      'openIndex',
    ]) {
      assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
    }
  });
});
