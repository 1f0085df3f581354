/**
 * Metrics (issue 13 item 3), read back with a real Prometheus parser (python3-prometheus-client):
 * an openIndex handle's prom-client metrics, and the `--metrics-file` textfile every lifecycle
 * command writes, also when it fails.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { Registry } from 'prom-client';

import { BadInputError } from '../src/core/errors.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { seededVectors } from '../src/core/util/random.js';
import { openIndex } from '../src/core/search/open-index.js';
import { writeChunks } from './helpers/chunks.js';
import { buildCli, runCli } from './helpers/cli.js';
import { parsePrometheusFile, sampleValue, type ParsedFamily } from './helpers/prometheus.js';
import { cloneVersion, flipByte, versionPath } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';
import { logLines } from './helpers/versions.js';

const dir = tmpDir();
const root = path.join(dir, 'root');
const chunks = path.join(dir, 'chunks.parquet');
const prom = (name: string) => path.join(dir, name);
const D = 8;

before(async () => {
  await writeChunks(chunks, { rows: 300, dim: D });
  const built = buildCli(root, chunks, '--version', 'v1', '--metrics-file', prom('build.prom'));
  assert.equal(built.code, 0, built.stderr);
});

function parseText(text: string, name: string): ParsedFamily[] {
  writeFileSync(prom(name), text);
  return parsePrometheusFile(prom(name));
}

function typeOf(families: ParsedFamily[], name: string): string | undefined {
  return families.find((f) => f.name === name)?.type;
}

describe('openIndex metrics (prom-client)', () => {
  it('records search and hydration latency, queries, errors and the open version in the caller registry', async () => {
    const registry = new Registry();
    const a = await openIndex({ root, version: 'v1' }, { metrics: { registry } });
    // A second handle on the same registry adds to the same series instead of throwing.
    const b = await openIndex({ root, version: 'v1' }, { metrics: { registry } });
    try {
      await a.search(seededVectors(3, D, 1), 5);
      await b.search(seededVectors(1, D, 2), 5);
      await a.catalog.embeddingsByIds([7n, 1007n]);
      await assert.rejects(a.search(new Float32Array(3), 5), BadInputError);
      // Not even an array: still the handle's BadInputError, not a TypeError from the metrics.
      await assert.rejects(a.search(undefined as unknown as Float32Array, 5), BadInputError);

      const m = parseText(await a.metrics(), 'lib.prom');
      const v = { version: 'v1' };
      assert.equal(typeOf(m, 'indexctl_search_seconds'), 'histogram');
      assert.equal(typeOf(m, 'indexctl_hydration_seconds'), 'histogram');
      assert.equal(typeOf(m, 'indexctl_queries'), 'counter');
      assert.equal(typeOf(m, 'indexctl_errors'), 'counter');
      assert.equal(typeOf(m, 'indexctl_open_version'), 'gauge');
      assert.equal(sampleValue(m, 'indexctl_search_seconds_count', v), 4, 'two searches and the refused two');
      assert.equal(sampleValue(m, 'indexctl_search_seconds_bucket', { ...v, le: '+Inf' }), 4);
      assert.ok(sampleValue(m, 'indexctl_search_seconds_sum', v)! > 0);
      assert.equal(sampleValue(m, 'indexctl_queries_total', v), 4, 'query vectors of the searches that ran');
      assert.equal(sampleValue(m, 'indexctl_hydration_seconds_count', { ...v, op: 'chunks_by_ids' }), 2);
      assert.equal(sampleValue(m, 'indexctl_hydration_seconds_count', { ...v, op: 'embeddings_by_ids' }), 1);
      assert.equal(
        sampleValue(m, 'indexctl_errors_total', { ...v, op: 'search', error: 'BadInputError' }),
        2,
      );
      assert.equal(sampleValue(m, 'indexctl_open_version', v), 2);
      assert.equal(await b.metrics(), await registry.metrics(), 'both handles expose the caller registry');
    } finally {
      await b.close();
      assert.equal(sampleValue(parseText(await registry.metrics(), 'lib2.prom'), 'indexctl_open_version'), 1);
      await a.close();
    }
    const closed = parseText(await registry.metrics(), 'lib3.prom');
    assert.equal(sampleValue(closed, 'indexctl_open_version'), undefined, 'no version open after close');
    assert.equal(sampleValue(closed, 'indexctl_queries_total', { version: 'v1' }), 4, 'counters stay');
  });

  it('gives each handle a registry of its own by default', async () => {
    const a = await openIndex({ root, version: 'v1' });
    const b = await openIndex({ root, version: 'v1' });
    try {
      await a.search(seededVectors(2, D, 3), 3);
      const ma = parseText(await a.metrics(), 'own-a.prom');
      const mb = parseText(await b.metrics(), 'own-b.prom');
      assert.equal(sampleValue(ma, 'indexctl_queries_total', { version: 'v1' }), 2);
      assert.equal(sampleValue(mb, 'indexctl_queries_total', { version: 'v1' }), undefined);
      assert.equal(sampleValue(mb, 'indexctl_open_version', { version: 'v1' }), 1);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('--metrics-file (textfile collector)', () => {
  const cli = (...args: string[]) => runCli(['--root', root, ...args]);
  const noTemps = () =>
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
      'no temp file left next to the metrics',
    );

  it('build: exit code, duration, vectors and bytes of the version', async () => {
    const m = parsePrometheusFile(prom('build.prom'));
    const c = { command: 'build' };
    assert.equal(sampleValue(m, 'indexctl_command_exit_code', c), 0);
    assert.equal(sampleValue(m, 'indexctl_command_success', c), 1);
    assert.ok(sampleValue(m, 'indexctl_command_duration_seconds', c)! > 0);
    const ts = sampleValue(m, 'indexctl_command_last_run_timestamp_seconds', c)!;
    assert.ok(Math.abs(ts - Date.now() / 1000) < 3600, `a Unix time in seconds: ${ts}`);
    const manifest = await readManifest(versionPath(root, 'v1'));
    const bytes = Object.values(manifest.files).reduce((s, f) => s + f.bytes, 0);
    assert.equal(sampleValue(m, 'indexctl_version_vectors', { ...c, version: 'v1' }), 300);
    assert.equal(sampleValue(m, 'indexctl_version_bytes', { ...c, version: 'v1' }), bytes);
    assert.ok(sampleValue(m, 'indexctl_build_phase_seconds', { ...c, phase: 'add' }) !== undefined);
    assert.match(readFileSync(prom('build.prom'), 'utf8'), /\n$/, 'the last line ends with a line feed');
    noTemps();
  });

  it('verify: one state-set series per check, on success and on corruption (exit 4)', async () => {
    const ok = cli('verify', 'v1', '--level', '3', '--metrics-file', prom('verify.prom'));
    assert.equal(ok.code, 0, ok.stderr);
    let m = parsePrometheusFile(prom('verify.prom'));
    const check = { command: 'verify', version: 'v1', check: 'files.checksum', target: 'faiss.index' };
    assert.equal(sampleValue(m, 'indexctl_verify_check', { ...check, outcome: 'pass' }), 1);
    assert.equal(sampleValue(m, 'indexctl_verify_check', { ...check, outcome: 'fail' }), 0);
    assert.equal(sampleValue(m, 'indexctl_verify_checks', { command: 'verify', outcome: 'fail' }), 0);
    assert.equal(sampleValue(m, 'indexctl_verify_level', { command: 'verify' }), 3);

    await cloneVersion(root, 'v1', 'bad');
    flipByte(path.join(versionPath(root, 'bad'), 'faiss.index'));
    const bad = cli('verify', 'bad', '--level', '1', '--metrics-file', prom('verify.prom'));
    assert.equal(bad.code, 4, bad.stderr);
    m = parsePrometheusFile(prom('verify.prom'));
    assert.equal(sampleValue(m, 'indexctl_command_exit_code', { command: 'verify' }), 4);
    assert.equal(sampleValue(m, 'indexctl_command_success', { command: 'verify' }), 0);
    assert.equal(
      sampleValue(m, 'indexctl_verify_check', { ...check, version: 'bad', outcome: 'fail' }),
      1,
      'the file was replaced, and names the failing check',
    );
    assert.equal(
      sampleValue(m, 'indexctl_verify_check', { ...check, version: 'v1', outcome: 'pass' }),
      undefined,
    );
    noTemps();
  });

  it('publish: the published version and its publish.log time; a refused publish keeps exit code and checks', () => {
    const res = cli('publish', 'v1', '--expect-current', 'none', '--metrics-file', prom('publish.prom'));
    assert.equal(res.code, 0, res.stderr);
    const m = parsePrometheusFile(prom('publish.prom'));
    const entry = logLines(root).at(-1)!;
    assert.equal(
      sampleValue(m, 'indexctl_published_version_info', { command: 'publish', version: 'v1', from: '' }),
      1,
    );
    assert.equal(
      sampleValue(m, 'indexctl_published_timestamp_seconds', { command: 'publish', version: 'v1' }),
      Date.parse(entry.ts as string) / 1000,
    );
    assert.equal(sampleValue(m, 'indexctl_verify_level', { command: 'publish' }), 3);

    // The verify gate refuses a corrupt version: exit 4, and its failing check is in the file.
    const refused = cli('publish', 'bad', '--metrics-file', prom('publish-bad.prom'));
    assert.equal(refused.code, 4, refused.stderr);
    const r = parsePrometheusFile(prom('publish-bad.prom'));
    assert.equal(sampleValue(r, 'indexctl_command_exit_code', { command: 'publish' }), 4);
    assert.equal(
      sampleValue(r, 'indexctl_verify_check', {
        command: 'publish',
        version: 'bad',
        check: 'files.checksum',
        target: 'faiss.index',
        outcome: 'fail',
      }),
      1,
    );
    assert.equal(sampleValue(r, 'indexctl_published_version_info'), undefined);

    // An error with no report at all (no such version): exit code, duration, time.
    const missing = cli('publish', 'nope', '--metrics-file', prom('publish-missing.prom'));
    assert.equal(missing.code, 6, missing.stderr);
    const n = parsePrometheusFile(prom('publish-missing.prom'));
    assert.equal(sampleValue(n, 'indexctl_command_exit_code', { command: 'publish' }), 6);
    assert.ok(sampleValue(n, 'indexctl_command_duration_seconds', { command: 'publish' })! >= 0);
  });

  it('rollback, tune and gc write theirs', () => {
    const b2 = buildCli(root, chunks, '--version', 'v2');
    assert.equal(b2.code, 0, b2.stderr);
    assert.equal(cli('publish', 'v2').code, 0);
    const rb = cli('rollback', '--metrics-file', prom('rollback.prom'));
    assert.equal(rb.code, 0, rb.stderr);
    const r = parsePrometheusFile(prom('rollback.prom'));
    assert.equal(
      sampleValue(r, 'indexctl_published_version_info', { command: 'rollback', version: 'v1', from: 'v2' }),
      1,
    );

    const tune = cli('tune', 'v1', '--sample', '20', '--k', '5', '--metrics-file', prom('tune.prom'));
    assert.equal(tune.code, 0, tune.stderr);
    const t = parsePrometheusFile(prom('tune.prom'));
    assert.equal(sampleValue(t, 'indexctl_tune_target_met', { command: 'tune', version: 'v1' }), 1);
    assert.equal(
      sampleValue(t, 'indexctl_tune_recall', { command: 'tune', version: 'v1' }),
      1,
      'Flat is exact',
    );
    assert.equal(sampleValue(t, 'indexctl_version_vectors', { command: 'tune', version: 'v1' }), 300);

    const gc = cli('gc', '--keep', '0', '--metrics-file', prom('gc.prom'));
    assert.equal(gc.code, 0, gc.stderr);
    const g = parsePrometheusFile(prom('gc.prom'));
    assert.equal(sampleValue(g, 'indexctl_gc_removed_items', { command: 'gc', dry_run: 'true' }), 1, 'bad');
    assert.ok(sampleValue(g, 'indexctl_gc_removed_bytes', { command: 'gc', dry_run: 'true' })! > 0);
    noTemps();
  });

  it('a metrics file in a missing directory is a usage error (exit 2) before the command runs', () => {
    const file = path.join(dir, 'no-such-dir', 'x.prom');
    const res = cli('gc', '--keep', '0', '--yes', '--metrics-file', file);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /--metrics-file .*no-such-dir.*does not exist/);
    assert.ok(existsSync(versionPath(root, 'bad')), 'gc did not run');
    assert.ok(!existsSync(file));
    assert.ok(readFileSync(prom('gc.prom'), 'utf8').includes('indexctl_gc_removed_items'));
  });
});
