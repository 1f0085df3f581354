import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';

import { FaissError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/random.js';
import { tmpDir } from './helpers/tmp.js';

const d = 32;
const n = 4000;
const x = seededVectors(n, d, 11);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_000_007n);

describe('FaissIndex: async calls', () => {
  it('trainAsync + addWithIdsAsync + searchAsync give the same results as the sync calls', async () => {
    const a = FaissIndex.fromFactory(d, 'IVF16,Flat').wrapIdMap2();
    await a.trainAsync(x);
    await a.addWithIdsAsync(x, ids);
    const b = FaissIndex.fromFactory(d, 'IVF16,Flat').wrapIdMap2();
    b.train(x);
    b.addWithIds(x, ids);
    assert.equal(a.ntotal, n);
    const q = x.subarray(0, 100 * d);
    assert.deepEqual(await a.searchAsync(q, 10), b.search(q, 10));
  });

  it('writeAsync and readAsync round-trip', async () => {
    const file = path.join(tmpDir(), 'a.index');
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    await index.addWithIdsAsync(x, ids);
    await index.writeAsync(file);
    const back = await FaissIndex.readAsync(file);
    assert.deepEqual(back.idMap(), ids);
  });

  it('a call on a busy index throws instead of racing, and the index is usable once it settles', async () => {
    const index = FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2();
    const pending = index.addWithIdsAsync(x, ids);
    assert.throws(() => index.search(x.subarray(0, d), 1), { name: 'FaissError', message: /busy/ });
    await assert.rejects(index.searchAsync(x.subarray(0, d), 1), { name: 'FaissError', message: /busy/ });
    assert.throws(() => index.dispose(), /busy/);
    assert.equal(index.d, d, 'getters still answer while busy');
    await pending;
    assert.equal(index.ntotal, n);
    assert.equal(index.search(x.subarray(0, d), 1).labels[0], ids[0]);
  });

  it('rejects with a FaissError carrying the FAISS message, and clears busy', async () => {
    const index = FaissIndex.fromFactory(d, 'IVF16,Flat').wrapIdMap2();
    await assert.rejects(index.addWithIdsAsync(x, ids), (err: unknown) => {
      assert.ok(err instanceof FaissError);
      assert.match(err.message, /is_trained/);
      return true;
    });
    await index.trainAsync(x);
    assert.equal(index.isTrained, true);
    await assert.rejects(FaissIndex.readAsync(path.join(tmpDir(), 'missing.index')), {
      name: 'FaissError',
      message: /could not open/,
    });
  });

  it('keeps the main thread free while FAISS works (a timer fires during a long add)', async () => {
    const big = seededVectors(20_000, d, 3);
    const index = FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2();
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await index.addWithIdsAsync(
      big,
      BigInt64Array.from({ length: 20_000 }, (_, i) => BigInt(i)),
    );
    clearInterval(timer);
    assert.ok(ticks > 0, 'the event loop ran while the add was on a worker thread');
  });

  it('uses the thread count set on the main thread inside the workers', async () => {
    const before = FaissIndex.getNumThreads();
    FaissIndex.setNumThreads(1);
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    await index.addWithIdsAsync(x, ids);
    const { labels } = await index.searchAsync(x.subarray(0, 50 * d), 1);
    assert.deepEqual([...labels], [...ids.subarray(0, 50)]);
    FaissIndex.setNumThreads(before);
  });
});
