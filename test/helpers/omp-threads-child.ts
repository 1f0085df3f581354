/**
 * For test/faiss-async.test.ts: `node omp-threads-child.js [THREADS]` (run with OMP_NUM_THREADS=4).
 * Sets FaissIndex.setNumThreads(THREADS) on the main thread when given, then runs an HNSW add (an
 * OpenMP parallel region) on a libuv worker and prints {before, after}: this process's OS threads
 * around that add. OpenMP starts a worker's team threads on its first parallel region, so a worker
 * that honours 1 thread adds none, and one that falls back to OMP_NUM_THREADS adds 3.
 */
import { readFileSync } from 'node:fs';

import { FaissIndex } from '../../src/core/faiss/index.js';
import { seededVectors } from '../../src/core/util/random.js';

const threads = process.argv[2];
const osThreads = (): number =>
  Number(/^Threads:\s+(\d+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
const d = 16;
const n = 2000;
const x = seededVectors(n, d, 5);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i));

if (threads !== undefined) FaissIndex.setNumThreads(Number(threads));
// A first async call with no parallel region starts libuv's pool, so `before` counts it.
await FaissIndex.fromFactory(d, 'Flat').wrapIdMap2().addWithIdsAsync(x, ids);
const before = osThreads();
await FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2().addWithIdsAsync(x, ids);
console.log(JSON.stringify({ before, after: osThreads() }));
