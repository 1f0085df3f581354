import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FaissError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';
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

  it('keeps the main thread free while FAISS works (the event loop turns while the add is in flight)', async () => {
    const big = seededVectors(20_000, d, 3);
    const index = FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2();
    let settled = false;
    const pending = index
      .addWithIdsAsync(
        big,
        BigInt64Array.from({ length: 20_000 }, (_, i) => BigInt(i)),
      )
      .then(() => (settled = true));
    // Had the add run on this thread, it would be over before the first turn of the loop; no clock
    // is involved, only whether this code runs while the add has not finished.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the event loop turned while the add was on a worker thread');
    assert.throws(() => index.search(big.subarray(0, d), 1), /busy/, 'and the add was still running');
    await pending;
    assert.equal(index.ntotal, 20_000);
  });

  it('uses the thread count set on the main thread inside the workers', () => {
    // OMP_NUM_THREADS=4 makes a worker that ignored setNumThreads start 3 OpenMP threads (see the
    // child); the run without setNumThreads shows the count is observed, whatever the core count.
    const child = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'omp-threads-child.js');
    const threadsAround = (...args: string[]) => {
      const res = spawnSync(process.execPath, [child, ...args], {
        encoding: 'utf8',
        env: { ...process.env, OMP_NUM_THREADS: '4' },
      });
      assert.equal(res.status, 0, res.stderr);
      return JSON.parse(res.stdout) as { before: number; after: number };
    };
    const one = threadsAround('1');
    assert.equal(one.after, one.before, 'setNumThreads(1): the add started no OpenMP threads');
    const two = threadsAround('2');
    assert.equal(two.after, two.before + 1, 'setNumThreads(2): one more thread for the team');
    const unset = threadsAround();
    assert.equal(unset.after, unset.before + 3, 'unset: OMP_NUM_THREADS=4 applies');
  });
});
