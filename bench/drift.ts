/**
 * The drift figure of `build --base` (src/core/build/incremental.ts) on data whose shift is known:
 * an IVF trained on one half of a chunks file, the mean distance to the nearest coarse centroid of
 * the other half (as is, and altered) over that of the trained half. Chooses --drift-threshold.
 *
 *   node dist/bench/drift.js [--rows 200000] [--nlist 256] [--data uniform] [--tiny]
 * `--tiny` overrides the sizes (3000 rows, IVF16): seconds, for test/bench-smoke.test.ts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { FaissIndex } from '../src/core/faiss/index.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { mulberry32 } from '../src/core/util/random.js';
import { chunksFile } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    nlist: { type: 'string', default: '256' },
    data: { type: 'string', default: 'uniform' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const rows = values.tiny ? 3000 : Number(values.rows);
const nlist = values.tiny ? 16 : Number(values.nlist);
const file = chunksFile(values.dir, rows, values.data === 'lowrank' ? 'lowrank' : 'uniform');

const all = await readAllChunks(file);
const d = all.vectors.length / all.ids.length;
const half = Math.floor(all.ids.length / 2);
const trained = all.vectors.slice(0, half * d);
const heldOut = all.vectors.slice(half * d);
const index = FaissIndex.fromFactory(d, `IVF${nlist},Flat`).wrapIdMap2();
index.train(trained);
const mean = (x: Float32Array) => x.reduce((s, v) => s + v, 0) / x.length;
const rms = Math.sqrt(mean(trained.map((v) => v * v)));
const base = mean(index.coarseDistances(trained.subarray(0, Math.min(half, 10_000) * d)));
const noise = (fraction: number) => {
  const next = mulberry32(7);
  // Uniform noise of standard deviation fraction x RMS (a uniform on [-0.5, 0.5) has sd 1/sqrt(12)).
  return (v: number) => v + fraction * rms * (next() - 0.5) * Math.sqrt(12);
};
const cases: [string, ((v: number) => number) | undefined][] = [
  ['same distribution (held-out half)', undefined],
  ['x 0.9 + 0.01 (the incremental bench "changed")', (v) => v * 0.9 + 0.01],
  ['x 1.05', (v) => v * 1.05],
  ['+ noise of 10% of the RMS', noise(0.1)],
  ['+ noise of 30% of the RMS', noise(0.3)],
  ['+ noise of 50% of the RMS', noise(0.5)],
  ['shifted by 0.5 x RMS', (v) => v + 0.5 * rms],
  ['shifted by 1 x RMS', (v) => v + rms],
];
console.log(`${path.basename(file)}, IVF${nlist},Flat trained on ${half} rows\n`);
console.log('| new vectors | drift ratio |');
console.log('|---|---|');
for (const [name, alter] of cases) {
  const moved = alter ? heldOut.map(alter) : heldOut;
  console.log(`| ${name} | ${(mean(index.coarseDistances(moved)) / base).toFixed(3)} |`);
}
index.dispose();
