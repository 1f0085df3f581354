/**
 * `build` benchmark: indexctl building a version from a chunks Parquet file (ingest + index + idmap
 * + catalog + checksums) against a Python FAISS script building the same index from the same vectors
 * already in memory, in one run. Also: ingestion MB/s, and indexctl's checksum speed against
 * `xxhsum -H1` on the same version files.
 *
 *   node dist/bench/build.js [--rows 1000000] [--dim 384] [--hnsw-rows 100000] [--factories Flat,HNSW32] [--data lowrank] [--tiny]
 * `--tiny` overrides the sizes (2000 rows, HNSW 500): seconds, for test/bench-smoke.test.ts, which
 * checks that the bench and its Python peer still run.
 * The chunks files (low intrinsic dimension by default, `--data uniform` for independent floats; see
 * bench/ingest.ts) and the raw vectors the Python peer loads are made on first use (bench/data.ts).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { type BenchData, chunksFile, D, rawFiles, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: String(D) },
    'hnsw-rows': { type: 'string', default: '100000' },
    factories: { type: 'string', default: 'Flat,HNSW32' },
    data: { type: 'string', default: 'lowrank' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const flatRows = values.tiny ? 2000 : Number(values.rows);
const hnswRows = values.tiny ? 500 : Number(values['hnsw-rows']);
const dim = Number(values.dim);
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const python = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';

function json(res: ReturnType<typeof spawnSync>, what: string): Record<string, unknown> {
  if (res.status !== 0) throw new Error(`${what} failed: ${String(res.stderr)}`);
  return JSON.parse(String(res.stdout).trim().split('\n').pop()!) as Record<string, unknown>;
}

function xxhsumSeconds(files: string[]): number {
  const t = performance.now();
  const res = spawnSync('xxhsum', ['-H1', ...files], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`xxhsum failed: ${res.stderr}`);
  return (performance.now() - t) / 1000;
}

console.log(
  '| factory | vectors | indexctl build s | python build s | ratio | read+add MB/s | write_index s (python) | indexctl RSS MB | python RSS MB | checksum GB/s (xxhsum) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const factory of values.factories!.split(',')) {
  const rows = factory.startsWith('HNSW') ? hnswRows : flatRows;
  const chunks = chunksFile(values.dir!, rows, values.data as BenchData, dim === D ? {} : { dim });
  const raw = await rawFiles(chunks);
  const root = path.join(values.dir!, `build-root-${factory.replace(/\W/g, '_')}`);
  rmSync(root, { recursive: true, force: true });
  warmPageCache(chunks);
  const ours = json(
    spawnSync(process.execPath, [path.join(here, 'build-child.js'), chunks, factory, root, 'bench'], {
      encoding: 'utf8',
    }),
    'indexctl build',
  );
  warmPageCache(raw.vectors);
  const peerIndex = path.join(values.dir!, 'peer.index');
  const theirs = json(
    spawnSync(
      python,
      [path.join(repo, 'bench/build_peer.py'), raw.vectors, raw.ids, String(dim), factory, peerIndex],
      {
        encoding: 'utf8',
      },
    ),
    'python build',
  );
  rmSync(peerIndex, { force: true });
  const versionDir = path.join(root, 'versions/bench');
  const files = ['chunks.parquet', 'faiss.index', 'idmap.parquet', 'catalog.duckdb'].map((f) =>
    path.join(versionDir, f),
  );
  files.forEach(warmPageCache);
  const xs = xxhsumSeconds(files);
  const phases = ours.phases as Record<string, number>;
  const bytes = ours.checksumBytes as number;
  const ingestMBs = (rows * dim * 4) / 1e6 / phases.add!;
  console.log(
    `| ${factory} | ${rows} | ${(ours.seconds as number).toFixed(1)} | ${(theirs.seconds as number).toFixed(1)} | ` +
      `${((ours.seconds as number) / (theirs.seconds as number)).toFixed(2)}x | ${ingestMBs.toFixed(0)} | ` +
      `${phases.write_index!.toFixed(1)} (${(theirs.write_index_s as number).toFixed(1)}) | ` +
      `${(ours.maxrss_mb as number).toFixed(0)} | ${(theirs.maxrss_mb as number).toFixed(0)} | ` +
      `${(bytes / 1e9 / phases.checksum!).toFixed(2)} (${(bytes / 1e9 / xs).toFixed(2)}) |`,
  );
  console.error(JSON.stringify({ ours, theirs, xxhsumSeconds: xs }));
  rmSync(root, { recursive: true, force: true });
}
