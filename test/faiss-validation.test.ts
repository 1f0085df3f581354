import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';

const d = 8;
const x = seededVectors(10, d, 5);
const ids = BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i));

describe('FaissIndex: arguments are checked before C++ sees them', () => {
  it('rejects a bad dimension, factory string or metric', () => {
    assert.throws(() => FaissIndex.fromFactory(0, 'Flat'), {
      name: 'TypeError',
      message: /d must be an integer/,
    });
    assert.throws(() => FaissIndex.fromFactory(1.5, 'Flat'), /d must be an integer/);
    assert.throws(() => FaissIndex.fromFactory(d, ''), /non-empty factory string/);
    assert.throws(() => FaissIndex.fromFactory(d, 'Flat', 'cosine' as 'l2'), /metric must be 'l2' or 'ip'/);
  });

  it('rejects vectors that are not a Float32Array of n x d', () => {
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    assert.throws(() => index.addWithIds([1, 2] as unknown as Float32Array, ids), {
      name: 'TypeError',
      message: /vectors must be a Float32Array, got Array/,
    });
    assert.throws(
      () => index.addWithIds(new Float64Array(80) as unknown as Float32Array, ids),
      /got Float64Array/,
    );
    assert.throws(
      () => index.addWithIds(x.subarray(0, 7), ids),
      /length 7 is not a positive multiple of d=8/,
    );
    assert.throws(() => index.search(new Float32Array(0), 1), /queries: length 0/);
    assert.throws(() => index.train(x.subarray(0, 3)), /train vectors: length 3/);
  });

  it('rejects ids that are not a BigInt64Array of the right length, or negative', () => {
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    assert.throws(() => index.addWithIds(x, [0, 1] as unknown as BigInt64Array), /must be a BigInt64Array/);
    assert.throws(
      () => index.addWithIds(x, new BigUint64Array(10) as unknown as BigInt64Array),
      /BigInt64Array/,
    );
    assert.throws(() => index.addWithIds(x, ids.subarray(0, 9)), /9 ids for 10 vectors/);
    const withMinusOne = ids.slice();
    withMinusOne[4] = -1n;
    assert.throws(() => index.addWithIds(x, withMinusOne), {
      name: 'RangeError',
      message: /ids\[4\] = -1: ids must be >= 0/,
    });
    assert.equal(index.ntotal, 0, 'nothing was added');
  });

  it('rejects a bad k and a bad id for reconstruct', () => {
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    index.addWithIds(x, ids);
    assert.throws(() => index.search(x, 0), /k must be an integer/);
    assert.throws(() => index.search(x, 2.5), /k must be an integer/);
    assert.throws(() => index.reconstruct(-1n), /id must be a bigint in \[0, 2\^63-1\]/);
    assert.throws(() => index.reconstruct(1n << 63n), /id must be a bigint/);
    assert.throws(() => index.reconstruct(2 ** 60), /id must be a bigint/, 'unsafe Numbers are refused');
  });

  it('rejects bad thread counts and paths', () => {
    assert.throws(() => FaissIndex.setNumThreads(0), /threads must be an integer/);
    assert.throws(() => FaissIndex.read(''), /path must be a non-empty string/);
  });
});
