/**
 * FaissIndex.removeIds (native/remove.cc): FAISS 1.7.3's IndexIDMap2::remove_ids over an IVF compacts
 * id_map but leaves the old inner row numbers in the inverted lists, so afterwards a search named
 * the wrong external ids and a later add reused rows still held (Python FAISS shows the same). Every
 * kept vector must still be found under its own id, after a removal and after a further add.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';

const d = 8;
const n = 600;
const x = seededVectors(n, d, 11);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 7n + 3n);
const removed = BigInt64Array.from({ length: 150 }, (_, i) => ids[i * 4]!);
const extra = seededVectors(40, d, 12);
const extraIds = BigInt64Array.from({ length: 40 }, (_, i) => 100_000n + BigInt(i));

/** The id of each vector's own nearest neighbour (every list probed, so only ids can be wrong). */
function selfIds(index: FaissIndex, vectors: Float32Array): bigint[] {
  const { labels } = index.search(vectors, 1);
  return Array.from(labels);
}

describe('removeIds renumbers IVF rows', () => {
  for (const factory of ['IVF8,Flat', 'IVF8,PQ4x4', 'IVF8_HNSW4,SQ8', 'PCA8,IVF8,Flat', 'Flat', 'SQ8']) {
    it(`${factory}: kept vectors keep their ids, removed ones are gone, later adds are found`, () => {
      const index = FaissIndex.fromFactory(d, factory).wrapIdMap2();
      if (!index.isTrained) index.train(x);
      if (factory.includes('IVF')) index.setParameters('nprobe=8');
      index.addWithIds(x, ids);
      assert.equal(index.removeIds(removed), removed.length);
      assert.equal(index.ntotal, n - removed.length);
      const gone = new Set(removed);
      const keptRows = [...ids.keys()].filter((i) => !gone.has(ids[i]!));
      const kept = new Float32Array(keptRows.length * d);
      keptRows.forEach((row, j) => kept.set(x.subarray(row * d, (row + 1) * d), j * d));
      const found = selfIds(index, kept);
      const wrong = keptRows.filter((row, j) => found[j] !== ids[row]);
      // PQ/SQ codes are lossy: a near twin can win; a stale row map gets most of them wrong.
      assert.ok(
        wrong.length <= keptRows.length * 0.05,
        `${wrong.length} of ${keptRows.length} found under another id`,
      );
      assert.deepEqual(
        [...index.idMap()].filter((id) => gone.has(id)),
        [],
      );
      index.addWithIds(extra, extraIds);
      index.checkConsistency();
      const after = selfIds(index, extra);
      assert.ok(after.filter((id, j) => id !== extraIds[j]).length <= 2, `added vectors: ${after.join(',')}`);
      const again = selfIds(index, kept);
      assert.ok(keptRows.filter((row, j) => again[j] !== ids[row]).length <= keptRows.length * 0.05);
      index.dispose();
    });
  }

  it('fast-scan lists cannot remove: a FaissError naming the lists, the index unchanged', () => {
    const index = FaissIndex.fromFactory(16, 'IVF4,PQ8x4fs').wrapIdMap2();
    const v = seededVectors(400, 16, 3);
    index.train(v);
    index.addWithIds(
      v,
      BigInt64Array.from({ length: 400 }, (_, i) => BigInt(i)),
    );
    assert.throws(
      () => index.removeIds(BigInt64Array.of(1n, 2n)),
      /inverted lists \(BlockInvertedLists\) cannot remove/,
    );
    assert.equal(index.ntotal, 400);
    index.dispose();
  });

  it('coarseDistances: each vector to its nearest centroid; refused without an IVF', () => {
    const index = FaissIndex.fromFactory(d, 'IVF8,Flat').wrapIdMap2();
    index.train(x);
    const near = index.coarseDistances(x.subarray(0, 10 * d));
    const far = index.coarseDistances(x.subarray(0, 10 * d).map((v) => v + 50));
    assert.equal(near.length, 10);
    assert.ok(far.every((v, i) => v > near[i]!));
    const flat = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    assert.throws(() => flat.coarseDistances(x.subarray(0, d)), /needs an IVF index/);
    index.dispose();
    flat.dispose();
  });
});
