/**
 * FaissIndex.mergeFrom (native/merge.cc): IndexIDMap2 pairs over IVF and flat codes merge with their
 * ids intact (FAISS 1.7.3's own IndexIDMap2::merge_from restarts the second IVF's row numbers at 0,
 * so its vectors came back under the first index's ids), and the guards refuse what cannot merge.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FaissError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import type { NativeIndex } from '../src/core/faiss/native.js';
import { seededVectors } from '../src/core/util/random.js';

const d = 8;
const n = 600;
const x = seededVectors(n, d, 7);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 3n + 5n);

function trained(factory: string): FaissIndex {
  const index = FaissIndex.fromFactory(d, factory).wrapIdMap2();
  if (!index.isTrained) index.train(x);
  return index;
}

function copyOf(index: FaissIndex): FaissIndex {
  return FaissIndex.fromBuffer(index.toBuffer());
}

describe('mergeFrom', () => {
  for (const factory of ['Flat', 'IVF8,Flat', 'IVF8,PQ4x4', 'IVF8_HNSW4,PQ4x4', 'SQ8']) {
    it(`${factory}: two halves merged find every vector under its own id`, () => {
      const base = trained(factory);
      const a = copyOf(base);
      const b = copyOf(base);
      const half = n / 2;
      a.addWithIds(x.subarray(0, half * d), ids.subarray(0, half));
      b.addWithIds(x.subarray(half * d), ids.subarray(half));
      a.mergeFrom(b);
      assert.equal(a.ntotal, n);
      assert.equal(b.ntotal, 0);
      assert.deepEqual([...a.idMap()], [...ids]);
      a.checkConsistency();
      if (factory.startsWith('IVF')) a.setParameters('nprobe=8');
      let found = 0;
      for (let i = 0; i < n; i += 37) {
        const r = a.search(x.subarray(i * d, (i + 1) * d), 1);
        if (r.labels[0] === ids[i]) found++;
      }
      // Exact for Flat and IVF-Flat; the quantized codes may tie a neighbour, never lose the id.
      assert.ok(found >= (factory.includes('PQ') || factory === 'SQ8' ? 12 : 17), `${found} of 17 found`);
      for (const index of [base, a, b]) index.dispose();
    });
  }

  it('IVF fast-scan lists are refused with a FaissError (FAISS 1.7.3 aborted the process merging them)', () => {
    const base = trained('IVF8,PQ4x4fs');
    const a = copyOf(base);
    const b = copyOf(base);
    a.addWithIds(x.subarray(0, 100 * d), ids.subarray(0, 100));
    b.addWithIds(x.subarray(100 * d, 200 * d), ids.subarray(100, 200));
    assert.throws(() => a.mergeFrom(b), {
      name: 'FaissError',
      message: /inverted lists \(BlockInvertedLists\) cannot be merged/,
    });
    assert.equal(a.ntotal, 100);
    assert.equal(b.ntotal, 100);
  });

  it('an id in both indexes is refused and neither index changes', () => {
    const a = trained('Flat');
    const b = trained('Flat');
    a.addWithIds(x.subarray(0, 10 * d), ids.subarray(0, 10));
    b.addWithIds(x.subarray(9 * d, 20 * d), ids.subarray(9, 20));
    assert.throws(() => a.mergeFrom(b), {
      name: 'FaissError',
      message: new RegExp(`id ${ids[9]} is in both indexes`),
    });
    assert.equal(a.ntotal, 10);
    assert.equal(b.ntotal, 11);
  });

  it('refuses another dimension, itself, a wrapped with an unwrapped index, and a non-index argument', () => {
    const a = trained('Flat');
    assert.throws(
      () => a.mergeFrom(FaissIndex.fromFactory(d * 2, 'Flat').wrapIdMap2()),
      /dimension or metric differ/,
    );
    assert.throws(() => a.mergeFrom(a), /cannot merge an index into itself/);
    assert.throws(() => a.mergeFrom(FaissIndex.fromFactory(d, 'Flat')), FaissError);
    const native = (a as unknown as { native: NativeIndex }).native;
    assert.throws(() => native.mergeFrom({} as NativeIndex), {
      name: 'TypeError',
      message: /other: expected a NativeIndex/,
    });
  });
});
