/**
 * `build --base` benchmark: an incremental build of a 1% change (1/3 removed, 1/3 added, 1/3
 * changed) against a full build of the same NEW chunks, both from the same V1, each in its own
 * process (wall time and peak RSS); also the drift ratio the change measured.
 *
 *   node dist/bench/incremental.js [--rows 1000000] [--factory IVF1024,Flat] [--change 0.01] [--tiny]
 * `--tiny` overrides the sizes (3000 rows, IVF16,Flat): seconds, for test/bench-smoke.test.ts.
 * IVF-Flat by default: the family an incremental build is for (HNSW cannot remove), and its add is
 * dominated by the coarse assignment, so a full build's cost is what the incremental one avoids.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { hashRows } from '../src/core/build/embedding-hash.js';
import { seededVectors } from '../src/core/util/random.js';
import { changedChunksFile } from './change.js';
import { chunksFile, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    factory: { type: 'string', default: 'IVF1024,Flat' },
    change: { type: 'string', default: '0.01' },
    data: { type: 'string', default: 'lowrank' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const rows = values.tiny ? 3000 : Number(values.rows);
const factory = values.tiny ? 'IVF16,Flat' : values.factory;
const change = Number(values.change);
const here = path.dirname(new URL(import.meta.url).pathname);

const base = chunksFile(values.dir, rows, values.data === 'uniform' ? 'uniform' : 'lowrank');
const fresh = await changedChunksFile(values.dir, base, change);

function child(chunks: string, root: string, version: string, baseVersion?: string): Record<string, unknown> {
  warmPageCache(chunks);
  const res = spawnSync(
    process.execPath,
    [
      path.join(here, 'build-child.js'),
      chunks,
      factory,
      root,
      version,
      ...(baseVersion ? [baseVersion] : []),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  if (res.status !== 0) throw new Error(`build ${version} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

const root = path.join(values.dir, 'incremental-root');
rmSync(root, { recursive: true, force: true });

child(base, root, 'v1');
const full = child(fresh, root, 'full');
const inc = child(fresh, root, 'v2', 'v1');
const counts = inc.incremental as Record<string, unknown> & { drift: { ratio: number } | null };
const phases = (r: Record<string, unknown>) =>
  Object.entries(r.phases as Record<string, number>)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');

console.log('| build | vectors | wall s | peak RSS MB | phases (s) |');
console.log('|---|---|---|---|---|');
for (const [name, r] of [
  ['full', full],
  ['--base', inc],
] as const) {
  console.log(
    `| ${name} | ${String(r.vectors)} | ${(r.seconds as number).toFixed(1)} | ${(r.maxrss_mb as number).toFixed(0)} | ${phases(r)} |`,
  );
}
console.log(
  `\nincremental / full wall time: ${((inc.seconds as number) / (full.seconds as number)).toFixed(3)}; ` +
    `removed ${String(counts.removed)}, added ${String(counts.added)}, changed ${String(counts.changed)}, ` +
    `drift ratio ${counts.drift ? counts.drift.ratio.toFixed(3) : 'n/a'}`,
);
rmSync(root, { recursive: true, force: true });

// The per-chunk hash every build computes (chunk_embedding_hash), alone: 100k rows of 384 floats.
const sample = seededVectors(100_000, 384, 1);
const digests = new BigUint64Array(100_000);
await hashRows(sample, 384, digests); // compiles the wasm and touches the memory first
const t = performance.now();
await hashRows(sample, 384, digests);
console.log(`embedding hash: ${(((performance.now() - t) / 1000) * 10).toFixed(2)} s per million 384-d rows`);
