/**
 * FAISS benchmark: indexctl (FaissIndex over the addon) against Python FAISS (Debian python3-faiss
 * 1.7.3) doing the same calls on the same vectors, in one run; optionally also the addon linked
 * against Debian's generic libfaiss (bench/build-generic-addon.sh). Each measurement runs in its own
 * process so peak RSS is comparable.
 *
 *   node dist/bench/faiss.js [--n 1000000] [--hnsw-n 20000] [--pq-n 200000] [--runs 1]
 *                            [--ops flat_add,flat_search,hnsw_add,ivf_train_add,ivfpq_fs_search]
 *                            [--impls indexctl,python,generic] [--generic-addon FILE] [--tiny]
 *
 * `--tiny` overrides the sizes (4096 x 96, HNSW 500, one run, one thread) so every op and peer runs in seconds:
 * test/bench-smoke.test.ts runs the documented commands that way to catch a broken peer, not to time.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { mulberry32 } from '../src/core/util/random.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    'hnsw-n': { type: 'string', default: '20000' },
    'pq-n': { type: 'string', default: '200000' },
    d: { type: 'string', default: '384' },
    runs: { type: 'string', default: '1' },
    ops: { type: 'string', default: 'flat_add,flat_search,hnsw_add,ivf_train_add,ivfpq_fs_search' },
    impls: { type: 'string', default: 'indexctl,python' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    'generic-addon': {
      type: 'string',
      default: path.join(os.homedir(), '.cache/indexctl/addon-generic/indexctl_faiss.node'),
    },
    tiny: { type: 'boolean', default: false },
  },
});

// d 96 keeps PQ48 valid (2 dimensions per sub-quantizer); 4096 vectors still train IVF1024 (FAISS warns).
const tiny = values.tiny!;
const d = tiny ? 96 : Number(values.d);
const n = tiny ? 4096 : Number(values.n);
const sizes: Record<string, number> = {
  flat_add: n,
  flat_search: n,
  ivf_train_add: n,
  hnsw_add: tiny ? 500 : Number(values['hnsw-n']),
  ivfpq_fs_search: tiny ? 4096 : Number(values['pq-n']),
};
const runs = tiny ? 1 : Number(values.runs);
const python = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';
const genericAddon = values['generic-addon']!;
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');

/**
 * Gaussian-ish clustered vectors (sum of uniforms around 100 random centres), seeded, written once;
 * rewritten (the same seed, so a longer file starts with the same rows) when a run needs more rows.
 */
function ensureData(file: string, rows: number): void {
  if (existsSync(file) && statSync(file).size >= rows * d * 4) return;
  mkdirSync(path.dirname(file), { recursive: true });
  const rnd = mulberry32(42);
  const centres = Float32Array.from({ length: 100 * d }, () => rnd() * 4 - 2);
  const fd = openSync(file, 'w');
  const batch = 10_000;
  const buf = new Float32Array(batch * d);
  for (let start = 0; start < rows; start += batch) {
    for (let i = 0; i < batch; i++) {
      const c = Math.floor(rnd() * 100) * d;
      for (let j = 0; j < d; j++) buf[i * d + j] = centres[c + j]! + (rnd() + rnd() + rnd() - 1.5);
    }
    writeSync(fd, new Uint8Array(buf.buffer));
  }
  closeSync(fd);
}

interface Result {
  op: string;
  impl: string;
  seconds: number;
  cpu_s: number;
  maxrss_mb: number;
  [key: string]: unknown;
}

function run(impl: string, op: string, file: string): Result {
  const args = [op, file, String(sizes[op]), String(d)];
  // One thread at tiny size: OpenMP's spinning workers crawl on a machine busy with other jobs.
  const env = { ...process.env, OMP_NUM_THREADS: tiny ? '1' : String(os.availableParallelism()) };
  const res =
    impl === 'python'
      ? spawnSync(python, [path.join(repo, 'bench/faiss_ops.py'), ...args], { encoding: 'utf8', env })
      : spawnSync(process.execPath, [path.join(here, 'faiss-ops.js'), ...args], {
          encoding: 'utf8',
          env: impl === 'generic' ? { ...env, INDEXCTL_ADDON: genericAddon } : env,
        });
  if (res.status !== 0) throw new Error(`${impl} ${op} failed: ${res.stderr}`);
  const result = JSON.parse(res.stdout.trim().split('\n').pop()!) as Result;
  return { ...result, impl };
}

const file = path.join(values.dir!, `vectors-${d}.f32`);
ensureData(file, Math.max(...Object.values(sizes)));
const impls = values.impls!.split(',');
if (impls.includes('generic') && !existsSync(genericAddon)) {
  throw new Error(
    `no generic addon at ${genericAddon}: run bash bench/build-generic-addon.sh (or pass --generic-addon FILE)`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
console.log(
  `| op | n | ${impls.map((i) => `${i} s (cpu s)`).join(' | ')} | ${impls.map((i) => `${i} RSS MB`).join(' | ')} | vs python: wall, cpu, RSS |`,
);
console.log(`|---|---|${impls.map(() => '---|').join('')}${impls.map(() => '---|').join('')}---|`);
for (const op of values.ops!.split(',')) {
  const results: Record<string, Result[]> = Object.fromEntries(impls.map((i) => [i, []]));
  for (let r = 0; r < runs; r++) {
    for (const impl of impls) results[impl]!.push(run(impl, op, file)); // alternate A/B within a run
  }
  const med = (impl: string, key: 'seconds' | 'cpu_s' | 'maxrss_mb') =>
    median(results[impl]!.map((x) => x[key]));
  const ratio = (impl: string, key: 'seconds' | 'cpu_s' | 'maxrss_mb') =>
    `${(med(impl, key) / med('python', key)).toFixed(2)}x`;
  const ratios = impls
    .filter((i) => i !== 'python' && impls.includes('python'))
    .map((i) => `${i} ${ratio(i, 'seconds')}, ${ratio(i, 'cpu_s')}, ${ratio(i, 'maxrss_mb')}`);
  const cells = impls.map((i) => `${med(i, 'seconds').toFixed(3)} (${med(i, 'cpu_s').toFixed(2)})`);
  console.log(
    `| ${op} | ${sizes[op]} | ${cells.join(' | ')} | ${impls.map((i) => med(i, 'maxrss_mb').toFixed(0)).join(' | ')} | ${ratios.join('; ')} |`,
  );
  for (const impl of impls) console.error(JSON.stringify(results[impl]));
}
