/**
 * openIndex on real versions of every family: tuning re-applied from the manifest, results equal to
 * Python FAISS on the same file with the same parameters, hydration, targets, bad inputs, corruption.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, truncateSync, statSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import {
  BadInputError,
  IndexCorruptionError,
  InvariantViolationError,
  NotFoundError,
  UsageError,
} from '../src/core/errors.js';
import { flipCurrent } from '../src/core/layout.js';
import { openIndex } from '../src/core/search/open-index.js';
import { seededVectors } from '../src/core/util/random.js';
import { DIM, FAMILIES, buildFamilies, setTuning, type FamilyVersion } from './helpers/families.js';
import { runPython, writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { corruptByte } from './helpers/versions.js';

const dir = tmpDir();
let root = '';
let chunks = '';

const TUNINGS: Record<FamilyVersion, { spec: string; tuning: Record<string, number | null> }> = {
  flat: { spec: '', tuning: {} },
  hnsw: { spec: 'efSearch=24', tuning: { hnsw_efSearch: 24 } },
  ivf: { spec: 'nprobe=4', tuning: { nprobe: 4 } },
  pqr: { spec: 'nprobe=4,k_factor_rf=8', tuning: { nprobe: 4, refine_k_factor: 8 } },
};
const FAMILY = { flat: 'flat', hnsw: 'hnsw', ivf: 'ivf_flat', pqr: 'ivf_pq_refine' } as const;

before(async () => {
  ({ root, chunks } = await buildFamilies(dir));
  for (const v of Object.keys(FAMILIES) as FamilyVersion[]) {
    await setTuning(root, v, { family: FAMILY[v], k: 10, ...TUNINGS[v].tuning });
  }
});

const PY_SEARCH = `
import json, sys, numpy as np, faiss
index = faiss.read_index(sys.argv[1])
if sys.argv[2]:
    faiss.ParameterSpace().set_index_parameters(index, sys.argv[2])
q = np.fromfile(sys.argv[3], dtype='float32').reshape(-1, index.d)
D, I = index.search(q, int(sys.argv[4]))
print(json.dumps({'ids': [[str(x) for x in row] for row in I], 'scores': D.tolist()}))
`;

describe('openIndex: tuning and results', () => {
  for (const v of Object.keys(FAMILIES) as FamilyVersion[]) {
    it(`${v} (${FAMILIES[v]}): re-applies the manifest tuning and answers as Python FAISS does`, async () => {
      const handle = await openIndex({ root, version: v });
      try {
        const { spec, tuning } = TUNINGS[v];
        assert.equal(handle.appliedParameters, spec);
        const stored = handle.index.getParameters();
        if (tuning.nprobe) assert.equal(stored.nprobe, tuning.nprobe);
        if (tuning.hnsw_efSearch) assert.equal(stored.efSearch, tuning.hnsw_efSearch);
        if (tuning.refine_k_factor) assert.equal(stored.k_factor_rf, tuning.refine_k_factor);
        assert.deepEqual(handle.parameters, stored);

        const queries = seededVectors(6, DIM, 11);
        const qfile = path.join(dir, `q-${v}.f32`);
        writeRaw(qfile, queries);
        const k = 10;
        const hits = await handle.search(queries, k);
        const py = runPython<{ ids: string[][]; scores: number[][] }>(PY_SEARCH, [
          path.join(handle.dir, 'faiss.index'),
          spec,
          qfile,
          String(k),
        ]);
        assert.deepEqual(
          hits.map((h) => h.map((x) => String(x.id))),
          py.ids.map((row) => row.filter((id) => id !== '-1')),
        );
        hits.forEach((h, q) =>
          h.forEach((x, j) =>
            assert.ok(Math.abs(x.score - py.scores[q]![j]!) <= 1e-5 * Math.max(1, Math.abs(x.score))),
          ),
        );
      } finally {
        await handle.close();
      }
    });
  }

  it('hydrates each hit from the catalog (uri, lang, lines, faiss_row)', async () => {
    const handle = await openIndex({ root, version: 'flat' });
    try {
      const [hits] = await handle.search(seededVectors(1, DIM, 5), 5);
      assert.equal(hits!.length, 5);
      for (const hit of hits!) {
        // Fixture ids are i*1000+7, built in row order.
        const i = Number((hit.id - 7n) / 1000n);
        assert.equal(hit.uri, `src/f${i % 13}.ts`);
        assert.equal(hit.lang, 'typescript');
        assert.equal(hit.start_line, i * 10);
        assert.equal(hit.end_line, i * 10 + 9);
        assert.equal(hit.faiss_row, BigInt(i));
      }
      // l2: lower is better, so scores ascend.
      assert.deepEqual(
        hits!.map((h) => h.score),
        [...hits!.map((h) => h.score)].sort((a, b) => a - b),
      );
    } finally {
      await handle.close();
    }
  });

  it('serializes concurrent searches on one handle instead of failing', async () => {
    const handle = await openIndex({ root, version: 'ivf' });
    try {
      const q = seededVectors(50, DIM, 8);
      const results = await Promise.all([handle.search(q, 5), handle.search(q, 5), handle.search(q, 5)]);
      assert.deepEqual(results[1], results[0]);
      assert.deepEqual(results[2], results[0]);
    } finally {
      await handle.close();
    }
  });

  it('applies extra parameters after the tuning, and can skip the tuning', async () => {
    const extra = await openIndex({ root, version: 'ivf' }, { parameters: 'nprobe=16' });
    assert.equal(extra.index.getParameters().nprobe, 16);
    assert.equal(extra.appliedParameters, 'nprobe=4,nprobe=16');
    await extra.close();
    const raw = await openIndex({ root, version: 'ivf' }, { applyTuning: false });
    assert.equal(raw.index.getParameters().nprobe, 1);
    assert.equal(raw.appliedParameters, '');
    await raw.close();
  });
});

describe('openIndex: cosine', () => {
  it('normalizes queries (in a copy) and scores are inner products of unit vectors', async () => {
    const cosRoot = path.join(dir, 'cos');
    await build({ root: cosRoot, chunks, factory: 'Flat', version: 'c1', metric: 'cosine' });
    const handle = await openIndex({ root: cosRoot, version: 'c1' });
    try {
      const q = seededVectors(1, DIM, 4);
      const scaled = q.map((x) => x * 7);
      const copy = scaled.slice();
      const [a] = await handle.search(q, 5);
      const [b] = await handle.search(scaled, 5);
      assert.deepEqual(scaled, copy, 'the caller array is not modified');
      assert.deepEqual(
        a!.map((h) => h.id),
        b!.map((h) => h.id),
      );
      for (const h of a!) assert.ok(h.score <= 1 + 1e-5 && h.score >= -1 - 1e-5);
      // ip/cosine: higher is better, so scores descend.
      assert.ok(a![0]!.score >= a![4]!.score);
      await assert.rejects(handle.search(new Float32Array(DIM), 5), BadInputError);
    } finally {
      await handle.close();
    }
  });
});

describe('openIndex: targets', () => {
  it('opens CURRENT from a root (object or path), a version directory, or a path through CURRENT', async () => {
    await flipCurrent(root, 'ivf');
    for (const target of [{ root }, root, path.join(root, 'CURRENT')]) {
      const h = await openIndex(target);
      assert.equal(h.version, 'ivf');
      assert.equal(h.dir, path.join(root, 'versions', 'ivf'));
      await h.close();
    }
    const h = await openIndex(path.join(root, 'versions', 'hnsw'));
    assert.equal(h.version, 'hnsw');
    await h.close();
  });

  it('refuses a missing version, a root without CURRENT, and a directory that is neither', async () => {
    await assert.rejects(openIndex({ root, version: 'nope' }), NotFoundError);
    const bare = path.join(dir, 'bare-root');
    mkdirSync(path.join(bare, 'versions'), { recursive: true });
    await assert.rejects(openIndex({ root: bare }), NotFoundError);
    await assert.rejects(openIndex(bare), NotFoundError);
    const empty = path.join(dir, 'empty');
    mkdirSync(empty);
    await assert.rejects(openIndex(empty), NotFoundError);
    await assert.rejects(openIndex({ root, version: '../x' }), UsageError);
  });
});

describe('openIndex: bad input and damage', () => {
  it('refuses NaN queries, a wrong length, a bad k, and a closed handle', async () => {
    const handle = await openIndex({ root, version: 'flat' });
    const nan = seededVectors(2, DIM, 1);
    nan[DIM + 3] = NaN;
    await assert.rejects(
      handle.search(nan, 5),
      (e: Error) => e instanceof BadInputError && /first rows, 0-based: 1/.test(e.message),
    );
    await assert.rejects(handle.search(new Float32Array(DIM + 1), 5), BadInputError);
    await assert.rejects(handle.search(new Float32Array(0), 5), BadInputError);
    await assert.rejects(handle.search(seededVectors(1, DIM, 1), 0), UsageError);
    await assert.rejects(handle.search(seededVectors(1, DIM, 1), 1.5), UsageError);
    await handle.close();
    await handle.close();
    await assert.rejects(handle.search(seededVectors(1, DIM, 1), 5), UsageError);
  });

  function copyVersion(name: string): string {
    const copyRoot = path.join(dir, `copy-${name}`);
    cpSync(path.join(root, 'versions', 'flat'), path.join(copyRoot, 'versions', 'flat'), { recursive: true });
    return copyRoot;
  }

  it('checks the checksum only when asked, and the size always', async () => {
    const flipped = copyVersion('flipped');
    corruptByte(path.join(flipped, 'versions/flat/faiss.index'));
    await (await openIndex({ root: flipped, version: 'flat' })).close();
    await assert.rejects(
      openIndex({ root: flipped, version: 'flat' }, { verifyChecksum: true }),
      (e: Error) => e instanceof IndexCorruptionError && /checksum/.test(e.message),
    );
    const truncated = copyVersion('truncated');
    const file = path.join(truncated, 'versions/flat/faiss.index');
    truncateSync(file, statSync(file).size - 100);
    await assert.rejects(
      openIndex({ root: truncated, version: 'flat' }),
      (e: Error) => e instanceof IndexCorruptionError && /bytes, the manifest records/.test(e.message),
    );
  });

  it('health(): catalog ping with its latency, index loaded, version and vectors; ok false (not thrown) once closed', async () => {
    const handle = await openIndex({ root, version: 'ivf' });
    const health = await handle.health();
    assert.equal(health.ok, true, JSON.stringify(health));
    assert.equal(health.version, 'ivf');
    assert.equal(health.indexLoaded, true);
    assert.equal(health.vectors, handle.index.ntotal);
    assert.equal(health.vectors, handle.manifest.vectors_count);
    assert.equal(health.dim, DIM);
    assert.equal(health.catalog.ok, true);
    assert.equal(health.catalog.error, null);
    assert.ok(typeof health.catalog.latencyMs === 'number' && health.catalog.latencyMs >= 0);
    assert.match(health.catalog.duckdbVersion ?? '', /^v\d+\.\d+/);
    // Queued with searches on the same handle: both answer.
    const [hits, again] = await Promise.all([handle.search(seededVectors(2, DIM, 5), 3), handle.health()]);
    assert.equal(hits.length, 2);
    assert.equal(again.ok, true);
    await handle.close();
    const closed = await handle.health();
    assert.equal(closed.ok, false);
    assert.equal(closed.indexLoaded, false);
    assert.equal(closed.catalog.ok, false);
    assert.match(closed.catalog.error ?? '', /closed/);
    assert.equal(closed.vectors, handle.manifest.vectors_count);
  });

  it('refuses a tuning that does not apply to the index', async () => {
    const wrong = copyVersion('wrong-tuning');
    await setTuning(wrong, 'flat', { family: 'flat', k: 10, nprobe: 8 });
    await assert.rejects(
      openIndex({ root: wrong, version: 'flat' }),
      (e: Error) => e instanceof InvariantViolationError && /nprobe=8/.test(e.message),
    );
  });
});
