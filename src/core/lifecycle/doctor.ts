/** A self-check an operator can run on a new machine: the addon loads and FAISS answers correctly. */
import { packageVersion } from '../build-info.js';
import { FaissIndex } from '../faiss/index.js';
import type { NativeBuildInfo } from '../faiss/native.js';
import { seededVectors } from '../util/random.js';

export interface DoctorReport {
  indexctl: string;
  faiss: NativeBuildInfo;
  threads: number;
  check: { className: string; vectors: number; queries: number; selfHits: number; ms: number };
}

export async function doctor(): Promise<DoctorReport> {
  const d = 32;
  const n = 2000;
  const nq = 50;
  const x = seededVectors(n, d, 1);
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1_000_003n + (1n << 40n));
  const started = performance.now();
  const index = FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2();
  await index.addWithIdsAsync(x, ids);
  const { labels } = await index.searchAsync(x.subarray(0, nq * d), 1);
  let selfHits = 0;
  for (let i = 0; i < nq; i++) if (labels[i] === ids[i]) selfHits++;
  const ms = performance.now() - started;
  const className = index.className;
  index.dispose();
  return {
    indexctl: packageVersion(),
    faiss: FaissIndex.buildInfo(),
    threads: FaissIndex.getNumThreads(),
    check: { className, vectors: n, queries: nq, selfHits, ms },
  };
}
