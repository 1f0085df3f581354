/**
 * tune on real versions: recall on known answers (exact indexes), ties, held-out queries, the
 * budget and pruning, the unreachable target (exit 3), --write re-applied by openIndex, the CLI's
 * outputs and every refused input.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { LockHeldError, UsageError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { acquireWriterLock } from '../src/core/lock.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { seededVectors } from '../src/core/util/random.js';
import { openIndex } from '../src/core/search/open-index.js';
import { tune } from '../src/core/tune/tune.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { DIM, buildFamilies } from './helpers/families.js';
import { writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
let root = '';

before(async () => {
  ({ root } = await buildFamilies(dir));
});

const manifestOf = async (version: string) => readManifest(path.join(root, 'versions', version));

describe('tune: recall', () => {
  it('an exact index has recall 1 on sampled queries, each own id excluded', async () => {
    FaissIndex.setNumThreads(2);
    const r = await tune({ root, version: 'flat', sample: 200, runs: 1, threads: 1 });
    assert.equal(r.threads, 1);
    assert.equal(FaissIndex.getNumThreads(), 2, "the caller's FAISS thread count is restored");
    assert.equal(r.points.length, 1);
    assert.equal(r.points[0]!.params, '');
    assert.equal(r.points[0]!.recall, 1);
    assert.equal(r.met, true);
    assert.equal(r.chosen?.params, '');
    assert.deepEqual(r.queries, { source: 'sample', seed: 0, nq: 200, self_excluded: true });
    assert.equal(r.faiss.version, FaissIndex.buildInfo().faissVersion, 'the linked FAISS');
  });

  it('IVF probing every list is exact; probing one is not', async () => {
    const r = await tune({
      root,
      version: 'ivf',
      sample: 200,
      runs: 1,
      params: 'nprobe=1,16',
      targetRecall: 0.99,
    });
    const [one, all] = r.points;
    assert.equal(all!.params, 'nprobe=16');
    assert.equal(all!.recall, 1);
    assert.ok(one!.recall! < 0.9, `nprobe=1 recall ${one!.recall}`);
    assert.equal(r.chosen?.params, 'nprobe=16');
    assert.equal(all!.pareto, true);
  });

  it('counts returned ids that tie the k-th true distance (duplicated vectors)', async () => {
    const dupRoot = path.join(dir, 'dups');
    const chunks = path.join(dir, 'dups.parquet');
    // 100 distinct vectors, each stored under 30 ids: a query's true top 10 are 10 of its 29 twins.
    await writeChunks(chunks, {
      rows: 3000,
      dim: DIM,
      embedding: `list_transform(range(${DIM}), j -> ((hash((i % 100) * 131 + j) % 2000) / 1000.0 - 1.0)::FLOAT)`,
    });
    await build({ root: dupRoot, chunks, factory: 'HNSW16', version: 'h' });
    const r = await tune({ root: dupRoot, version: 'h', sample: 100, runs: 1, params: 'efSearch=64' });
    const p = r.points[0]!;
    assert.ok(p.tie_hits! > 0, 'HNSW returns other twins than the exact search');
    const setOnly = p.recall! - p.tie_hits! / (100 * 10);
    assert.ok(p.recall! > setOnly + 0.1, `recall ${p.recall} vs ${setOnly} by id identity alone`);
  });

  it('measures a cosine version on normalized vectors (held-out queries normalized too)', async () => {
    const cosRoot = path.join(dir, 'cos');
    await build({
      root: cosRoot,
      chunks: path.join(dir, 'chunks.parquet'),
      factory: 'Flat',
      version: 'c',
      metric: 'cosine',
    });
    const qfile = path.join(dir, 'held-cos.f32');
    writeRaw(
      qfile,
      seededVectors(20, DIM, 5).map((x) => x * 9),
    );
    assert.equal((await tune({ root: cosRoot, version: 'c', sample: 100, runs: 1 })).points[0]!.recall, 1);
    assert.equal((await tune({ root: cosRoot, version: 'c', queries: qfile, runs: 1 })).points[0]!.recall, 1);
  });

  it('uses held-out queries from a file as given (nothing excluded)', async () => {
    const qfile = path.join(dir, 'held.f32');
    writeRaw(qfile, seededVectors(50, DIM, 99));
    const r = await tune({ root, version: 'flat', queries: qfile, runs: 1 });
    assert.deepEqual(r.queries, { source: 'file', file: qfile, nq: 50, self_excluded: false });
    assert.equal(r.points[0]!.recall, 1);
  });
});

describe('tune: sweep bounds', () => {
  it('sweeps the ParameterSpace ranges cheapest first and prunes settings that cannot join the frontier', async () => {
    const r = await tune({ root, version: 'hnsw', sample: 200, runs: 1 });
    assert.deepEqual(
      r.ranges.map((x) => x.name),
      ['efSearch'],
    );
    const order = r.points.map((p) => p.values.efSearch!);
    assert.deepEqual(
      order,
      [...order].sort((a, b) => a - b),
    );
    assert.ok(r.pruned.length > 0, 'recall 1 is reached early on this small set: what follows is pruned');
    for (const p of r.points.filter((x) => x.status === 'pruned')) {
      assert.ok(
        r.points.some(
          (m) => m.status === 'measured' && m.recall === 1 && m.values.efSearch! < p.values.efSearch!,
        ),
        `${p.params} pruned without a cheaper setting at recall 1`,
      );
    }
    assert.deepEqual(
      r.pruned,
      r.points.filter((x) => x.status === 'pruned').map((x) => x.params),
    );
  });

  it('cuts the settings that would overrun the budget, and lists them', async () => {
    const r = await tune({ root, version: 'pqr', sample: 100, runs: 1, maxSeconds: 0.001 });
    assert.equal(
      r.points.filter((p) => p.status === 'measured').length,
      1,
      'the first setting is always measured',
    );
    assert.ok(r.cut.length > 10);
    assert.equal(r.cut.length + 1 + r.pruned.length, r.points.length);
  });

  it('refuses bad options before any work', async () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ k: 0 }, /k must be/],
      [{ targetRecall: 1.5 }, /target recall/],
      [{ targetRecall: 0 }, /target recall/],
      [{ runs: 0 }, /runs/],
      [{ maxSeconds: -1 }, /max seconds/],
      [{ sample: 0 }, /sample/],
      [{ params: 'nprobe=x' }, /not a positive number/],
      [{ queries: 'q.f32', sample: 10 }, /not both/],
    ];
    for (const [options, pattern] of bad) {
      await assert.rejects(
        tune({ root, version: 'ivf', ...options }),
        (e: Error) => e instanceof UsageError && pattern.test(e.message),
        JSON.stringify(options),
      );
    }
    await assert.rejects(tune({ root, version: 'ivf', params: 'efSearch=16' }), (e: Error) =>
      /efSearch=16 cannot be set on IndexIDMap2<IndexIVFFlat>.*knobs: nprobe/.test(e.message),
    );
    await assert.rejects(tune({ root, version: 'flat', k: 3000, sample: 10 }), /needs at least 3001 vectors/);
  });
});

describe('tune --write', () => {
  it('stores the chosen setting, and openIndex applies exactly it', async () => {
    const r = await tune({ root, version: 'pqr', sample: 200, runs: 1, targetRecall: 0.5, write: true });
    assert.equal(r.written, true);
    const t = (await manifestOf('pqr')).tuning!;
    assert.deepEqual(t, r.tuning);
    assert.equal(t.family, 'ivf_pq_refine');
    assert.equal(t.k, 10);
    assert.equal(t.hnsw_efSearch, null);
    assert.ok(t.recall_at_k! >= 0.5);
    for (const field of [
      'latency_ms_p95',
      'latency_ms_p99',
      'qps',
      'nq',
      'query_source',
      'threads',
      'faiss_version',
      'faiss_simd',
      'params',
      'measured_ts',
    ]) {
      assert.ok((t as Record<string, unknown>)[field] != null, field);
    }
    assert.equal(
      (t as Record<string, unknown>).params,
      `k_factor_rf=${t.refine_k_factor},nprobe=${t.nprobe}`,
    );
    const handle = await openIndex({ root, version: 'pqr' });
    try {
      const stored = handle.index.getParameters();
      assert.equal(stored.nprobe, t.nprobe);
      assert.equal(stored.k_factor_rf, t.refine_k_factor);
    } finally {
      await handle.close();
    }
  });

  it('writes nothing when the target is not met', async () => {
    const before = readFileSync(path.join(root, 'versions/ivf/manifest.json'), 'utf8');
    const r = await tune({
      root,
      version: 'ivf',
      sample: 100,
      runs: 1,
      params: 'nprobe=1',
      targetRecall: 0.999,
      write: true,
    });
    assert.equal(r.met, false);
    assert.equal(r.written, false);
    assert.equal(r.tuning, null);
    assert.equal(r.best?.params, 'nprobe=1');
    assert.equal(readFileSync(path.join(root, 'versions/ivf/manifest.json'), 'utf8'), before);
  });

  it('waits for no one: a held writer lock is exit 75 territory', async () => {
    const lock = await acquireWriterLock(root, { command: 'test holder' });
    try {
      await assert.rejects(tune({ root, version: 'flat', sample: 20, runs: 1, write: true }), LockHeldError);
    } finally {
      lock.release();
    }
  });
});

describe('tune (CLI)', () => {
  it('prints the table and exits 0 when a setting meets the target; --plot writes an SVG', () => {
    const plot = path.join(dir, 'tune.svg');
    const res = runCli([
      '--root',
      root,
      'tune',
      'ivf',
      '--sample',
      '100',
      '--runs',
      '1',
      '--params',
      'nprobe=2,16',
      '--plot',
      plot,
    ]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /nprobe=16 .*1\.0000/);
    assert.match(res.stdout, /chosen: nprobe=16/);
    const svg = readFileSync(plot, 'utf8');
    assert.match(svg, /^<svg /);
    assert.equal((svg.match(/<circle /g) ?? []).length, 2);
  });

  it('exits 3 with "no setting reaches" when the target is out of reach', () => {
    const res = runCli([
      '--root',
      root,
      'tune',
      'ivf',
      '--sample',
      '100',
      '--runs',
      '1',
      '--params',
      'nprobe=1',
      '--target-recall',
      '0.999',
    ]);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stdout, /no setting reaches recall@10 >= 0\.999; best is nprobe=1/);
  });

  it('--write --json: one document, the tuning in the manifest', async () => {
    const res = runCli([
      '--root',
      root,
      'tune',
      'hnsw',
      '--sample',
      '100',
      '--runs',
      '1',
      '--params',
      'efSearch=16,64',
      '--target-recall',
      '0.5',
      '--write',
      '--json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as {
      schema: string;
      written: boolean;
      chosen: { params: string };
      points: unknown[];
    };
    assert.equal(doc.schema, 'indexctl.tune/1');
    assert.equal(doc.written, true);
    assert.equal(doc.points.length, 2);
    const t = (await manifestOf('hnsw')).tuning!;
    assert.equal(`efSearch=${t.hnsw_efSearch}`, doc.chosen.params);
  });

  it('refuses bad usage (2), a missing version (6), a bad query file (5), a held lock (75)', async () => {
    const args = ['--root', root, 'tune'];
    assert.equal(runCli([...args, 'ivf', '--params', 'nprobe=a']).code, 2);
    assert.equal(runCli([...args, 'ivf', '--queries', 'x.f32', '--sample', '10']).code, 2);
    assert.equal(runCli([...args, 'ivf', '--target-recall', 'high']).code, 2);
    assert.equal(runCli([...args, 'ivf', '--params', 'efSearch=16']).code, 2);
    assert.equal(runCli([...args, 'nope']).code, 6);
    const wrongDim = path.join(dir, 'wrong-dim.f32');
    writeRaw(wrongDim, new Float32Array(DIM + 1));
    const bad = runCli([...args, 'ivf', '--queries', wrongDim]);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /not a whole number of 16-float vectors/);
    // A family the manifest format cannot record: measured, never written.
    const chunks = path.join(dir, 'chunks.parquet');
    await build({ root, chunks, factory: 'IVF16,SQ8', version: 'sq8' });
    const sq8 = runCli([...args, 'sq8', '--sample', '20', '--runs', '1', '--write']);
    assert.equal(sq8.code, 2, sq8.stderr);
    assert.match(
      sq8.stderr,
      /IDMap2,IVF16,SQ8 is not in a family the manifest records \(flat, ivf_flat, ivf_pq, hnsw, ivf_pq_refine\)/,
    );
    assert.equal((await manifestOf('sq8')).tuning, null);
    const lock = await acquireWriterLock(root, { command: 'test holder' });
    try {
      assert.equal(runCli([...args, 'flat', '--sample', '20', '--runs', '1', '--write']).code, 75);
    } finally {
      lock.release();
    }
  });
});
