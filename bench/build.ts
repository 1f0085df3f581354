/**
 * `build` benchmark: indexctl building a version from a chunks Parquet file (ingest + index + idmap
 * + catalog + checksums) against a Python FAISS script building the same index from the same vectors
 * already in memory, in one run. Also: ingestion MB/s, and indexctl's checksum speed against
 * `xxhsum -H1` on the same version files.
 *
 *   node dist/bench/build.js [--rows 1000000] [--hnsw-rows 100000] [--factories Flat,HNSW32]
 * The chunks files come from bench/ingest.ts's generator (run `node dist/bench/ingest.js --rows N`
 * first); the raw vectors the Python peer loads are exported from them once.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { readAllChunks } from '../src/core/parquet/chunks-reader.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'hnsw-rows': { type: 'string', default: '100000' },
    factories: { type: 'string', default: 'Flat,HNSW32' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
  },
});
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const python = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';
const D = 384;

function chunksFile(rows: number): string {
  const file = path.join(values.dir!, `chunks-${rows}x${D}.parquet`);
  if (!existsSync(file)) {
    const res = spawnSync(
      process.execPath,
      [path.join(here, 'ingest.js'), '--rows', String(rows), '--mode', 'make'],
      {
        stdio: 'inherit',
      },
    );
    if (!existsSync(file)) throw new Error(`could not make ${file} (ingest.js exited ${res.status})`);
  }
  return file;
}

/** The same vectors and ids as raw arrays, for the Python peer (which has no Parquet reader here). */
async function rawFiles(chunks: string): Promise<{ vectors: string; ids: string }> {
  const vectors = chunks.replace(/\.parquet$/, '.f32');
  const ids = chunks.replace(/\.parquet$/, '.ids');
  if (!existsSync(vectors) || !existsSync(ids)) {
    const all = await readAllChunks(chunks);
    writeFileSync(vectors, new Uint8Array(all.vectors.buffer));
    writeFileSync(ids, new Uint8Array(all.ids.buffer));
  }
  return { vectors, ids };
}

function warm(file: string): void {
  // The page cache here forgets files unused for about a minute: read the file once first.
  readFileSync(file);
}

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
  '| factory | vectors | indexctl build s | python build s | ratio | read+add MB/s | indexctl RSS MB | python RSS MB | checksum GB/s (xxhsum) |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const factory of values.factories!.split(',')) {
  const rows = factory.startsWith('HNSW') ? Number(values['hnsw-rows']) : Number(values.rows);
  const chunks = chunksFile(rows);
  const raw = await rawFiles(chunks);
  const root = path.join(values.dir!, `build-root-${factory.replace(/\W/g, '_')}`);
  rmSync(root, { recursive: true, force: true });
  warm(chunks);
  const ours = json(
    spawnSync(process.execPath, [path.join(here, 'build-child.js'), chunks, factory, root, 'bench'], {
      encoding: 'utf8',
    }),
    'indexctl build',
  );
  warm(raw.vectors);
  const peerIndex = path.join(values.dir!, 'peer.index');
  const theirs = json(
    spawnSync(
      python,
      [path.join(repo, 'bench/build_peer.py'), raw.vectors, raw.ids, String(D), factory, peerIndex],
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
  files.forEach(warm);
  const xs = xxhsumSeconds(files);
  const phases = ours.phases as Record<string, number>;
  const bytes = ours.checksumBytes as number;
  const ingestMBs = (rows * D * 4) / 1e6 / phases.add!;
  console.log(
    `| ${factory} | ${rows} | ${(ours.seconds as number).toFixed(1)} | ${(theirs.seconds as number).toFixed(1)} | ` +
      `${((ours.seconds as number) / (theirs.seconds as number)).toFixed(2)}x | ${ingestMBs.toFixed(0)} | ` +
      `${(ours.maxrss_mb as number).toFixed(0)} | ${(theirs.maxrss_mb as number).toFixed(0)} | ` +
      `${(bytes / 1e9 / phases.checksum!).toFixed(2)} (${(bytes / 1e9 / xs).toFixed(2)}) |`,
  );
  console.error(JSON.stringify({ ours, theirs, xxhsumSeconds: xs }));
  rmSync(root, { recursive: true, force: true });
}
