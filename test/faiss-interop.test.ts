/**
 * Interoperability with the reference implementation, Debian's python3-faiss 1.7.3: indexes written
 * here are read by Python with the same class, id_map and results, and the other way round.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';
import { runPython, writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const d = 24;
const n = 3000;
const nq = 40;
const k = 5;
const x = seededVectors(n, d, 21);
const q = seededVectors(nq, d, 22);
const BIG = (1n << 63n) - 1n;
const ids = BigInt64Array.from({ length: n }, (_, i) => BIG - BigInt(i) * 3_000_000_000_000_001n);

interface PyIndexReport {
  cls: string;
  inner: string;
  ntotal: number;
  id_map: string[];
  labels: string[];
  distances: number[];
}

// Reads argv[1] (index), argv[2] (queries, raw float32), searches with k=argv[3]; ids as strings.
const READ_AND_SEARCH = `
import json, sys, numpy as np, faiss
index = faiss.read_index(sys.argv[1])
q = np.fromfile(sys.argv[2], dtype='float32').reshape(-1, index.d)
D, I = index.search(q, int(sys.argv[3]))
wrapped = faiss.downcast_index(index)
inner = faiss.downcast_index(wrapped.index)
print(json.dumps({
  "cls": type(wrapped).__name__, "inner": type(inner).__name__, "ntotal": int(index.ntotal),
  "id_map": [str(v) for v in faiss.vector_to_array(wrapped.id_map)],
  "labels": [str(v) for v in I.ravel()], "distances": [float(v) for v in D.ravel()],
}))
`;

// Builds argv[1] as IndexIDMap2(index_factory(d, argv[2])) from raw vectors/ids and writes argv[5].
const BUILD_AND_WRITE = `
import json, sys, numpy as np, faiss
d = int(sys.argv[3])
x = np.fromfile(sys.argv[1], dtype='float32').reshape(-1, d)
ids = np.fromfile(sys.argv[4], dtype='int64')
index = faiss.IndexIDMap2(faiss.index_factory(d, sys.argv[2]))
index.train(x)
index.add_with_ids(x, ids)
faiss.write_index(index, sys.argv[5])
print(json.dumps({"ntotal": int(index.ntotal)}))
`;

function labelsOf(r: PyIndexReport): BigInt64Array {
  return BigInt64Array.from(r.labels, (s) => BigInt(s));
}

function overlap(a: BigInt64Array, b: BigInt64Array): number {
  let same = 0;
  for (let i = 0; i < nq; i++) {
    const mine = new Set(a.subarray(i * k, (i + 1) * k));
    for (const label of b.subarray(i * k, (i + 1) * k)) if (mine.has(label)) same++;
  }
  return same / (nq * k);
}

// inner: the class Python sees after read_index (e.g. IndexRefineFlat for "...,RFlat").
const cases = [
  { factory: 'Flat', inner: 'IndexFlat', exact: true },
  { factory: 'IVF32,Flat', inner: 'IndexIVFFlat', exact: true, params: 'nprobe=8' },
  { factory: 'HNSW16', inner: 'IndexHNSWFlat', exact: false },
  {
    factory: 'IVF32,PQ8x4fs,RFlat',
    inner: 'IndexRefineFlat',
    exact: false,
    params: 'nprobe=8,k_factor_rf=4',
  },
];

describe('interop with Python FAISS 1.7.3', () => {
  const dir = tmpDir();
  const qFile = path.join(dir, 'q.f32');
  const xFile = path.join(dir, 'x.f32');
  const idsFile = path.join(dir, 'ids.i64');
  writeRaw(qFile, q);
  writeRaw(xFile, x);
  writeRaw(idsFile, ids);

  for (const c of cases) {
    it(`Python reads an indexctl ${c.factory} index: same class, id_map and results`, async () => {
      const file = path.join(dir, `ours-${c.factory.replace(/,/g, '_')}.index`);
      const index = FaissIndex.fromFactory(d, c.factory).wrapIdMap2();
      await index.trainAsync(x);
      await index.addWithIdsAsync(x, ids);
      if (c.params) index.setParameters(c.params);
      await index.writeAsync(file);

      const py = runPython<PyIndexReport>(READ_AND_SEARCH, [file, qFile, String(k)]);
      assert.equal(py.cls, 'IndexIDMap2');
      assert.equal(py.inner, c.inner);
      const reread = FaissIndex.read(file).className;
      // Python's downcast names the base class (IndexFlat for IndexFlatL2); ours is the exact type.
      assert.ok(reread.startsWith(`IndexIDMap2<${py.inner}`), `${reread} vs ${py.inner}`);
      assert.equal(py.ntotal, n);
      assert.deepEqual(
        BigInt64Array.from(py.id_map, (s) => BigInt(s)),
        ids,
      );
      const ours = index.search(q, k);
      const theirs = labelsOf(py);
      // Python's FAISS may be a different SIMD build: exact indexes agree label for label,
      // graph/quantized ones may take a different path on a near-tie.
      if (c.exact) assert.deepEqual(theirs, ours.labels);
      else assert.ok(overlap(theirs, ours.labels) >= 0.98, `overlap ${overlap(theirs, ours.labels)}`);
      for (let i = 0; i < ours.distances.length; i++) {
        if (theirs[i] === ours.labels[i]) assert.ok(Math.abs(py.distances[i]! - ours.distances[i]!) < 1e-3);
      }
    });
  }

  it('indexctl reads a Python-written IndexIDMap2: same class, id_map and results', () => {
    const file = path.join(dir, 'python-hnsw.index');
    runPython(BUILD_AND_WRITE, [xFile, 'HNSW16', String(d), idsFile, file]);
    const index = FaissIndex.read(file);
    assert.equal(index.className, 'IndexIDMap2<IndexHNSWFlat>');
    assert.deepEqual(index.idMap(), ids);
    assert.equal(index.checkConsistency(), true);
    const py = runPython<PyIndexReport>(READ_AND_SEARCH, [file, qFile, String(k)]);
    assert.ok(overlap(labelsOf(py), index.search(q, k).labels) >= 0.98);
  });

  it('indexctl reads a Python-written IVF index and serializes it byte for byte', () => {
    const file = path.join(dir, 'python-ivf.index');
    runPython(BUILD_AND_WRITE, [xFile, 'IVF32,Flat', String(d), idsFile, file]);
    const index = FaissIndex.read(file, { mmap: true });
    assert.equal(index.className, 'IndexIDMap2<IndexIVFFlat>');
    assert.deepEqual(index.idMap(), ids);
    const py = runPython<PyIndexReport>(READ_AND_SEARCH, [file, qFile, String(k)]);
    assert.deepEqual(index.search(q, k).labels, labelsOf(py));
    const reread = FaissIndex.read(file);
    assert.deepEqual(reread.toBuffer(), readFileSync(file));
  });
});
