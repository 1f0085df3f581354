/**
 * Chunk ingestion: Parquet (List<Float32>, ~10 row groups, snappy, written by DuckDB) -> one
 * Float32Array, in MB/s of floats and peak RSS.
 *
 *   node dist/bench/ingest.js [--rows N] [--data uniform|lowrank] [--mode all|read-all|batches|parquet-wasm|make] [--tiny]
 *     [--dim 384] [--row-groups 10]
 *
 * `--tiny` overrides --rows with 2000 (seconds; test/bench-smoke.test.ts checks the bench still runs).
 *
 * The file is made once (1,000,000 x 384 by default) in $BENCH_DIR (default /tmp/indexctl-bench) and
 * reused. `--data uniform` (the default, for ingestion and build) draws every float independently from
 * [0, 1); `--data lowrank` (for tune) projects a 24-dimensional latent point through a fixed random
 * 384 x 24 matrix and adds small noise: like real embeddings, the vectors have a low intrinsic
 * dimension, so nearest neighbours are meaningful and ANN settings reach high recall (on uniform
 * 384-d noise IVF1024 needs nprobe > 64 for recall@10 of 0.3). Each mode runs in its own process so peak RSS is its own, after one read of the file for the
 * page cache:
 *   read-all      readAllChunks: validation + one preallocated Float32Array (what build uses)
 *   batches       one pass of openChunks().batches(): the same decoding into a reused row-group buffer,
 *                 so no fresh memory is touched for the destination
 *   parquet-wasm  the peer: parquet-wasm reading one row group at a time and copying the float buffer
 *                 straight out of wasm memory through the Arrow C data interface (no validation)
 * Each run also reports "fresh": the time to first-touch a new Float32Array of the same size, measured
 * right after, because on a VM that alone can cost seconds per GB and dominates read-all.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openAsBlob, renameSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { DuckDBInstance } from '@duckdb/node-api';
import * as pw from 'parquet-wasm';

import { openChunks, readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { chunksPath, warmPageCache } from './data.js';
import { peakRssMB } from './rss.js';

const MODES = ['read-all', 'batches', 'parquet-wasm'] as const;
type Mode = (typeof MODES)[number];

interface Result {
  mode: Mode;
  rows: number;
  dim: number;
  seconds: number;
  mbPerSecond: number;
  /** User + system CPU of the whole process (DuckDB's threads included) during the run. */
  cpuSeconds: number;
  peakRssMB: number;
  freshTouchSeconds: number;
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const rows = process.argv.includes('--tiny') ? 2000 : Number(flag('--rows') ?? 1_000_000);
const mode = flag('--mode') ?? 'all';
const data = flag('--data') ?? 'uniform';
if (data !== 'uniform' && data !== 'lowrank') throw new Error(`--data must be uniform or lowrank`);
const DIM = Number(flag('--dim') ?? 384);
const rowGroups = Number(flag('--row-groups') ?? 10);
if (!Number.isSafeInteger(DIM) || DIM <= 0) throw new Error(`--dim must be a positive integer`);
if (!Number.isSafeInteger(rowGroups) || rowGroups <= 0)
  throw new Error(`--row-groups must be a positive integer`);
const benchDir = process.env.BENCH_DIR ?? '/tmp/indexctl-bench';
const file = chunksPath(benchDir, rows, data, { dim: DIM, rowGroups });
const LATENT = 24;

/** The embedding expression of the generator's SELECT (over columns i and, for lowrank, z and w). */
function embeddingSql(): string {
  return data === 'uniform'
    ? `list_transform(range(${DIM}), j -> random()::FLOAT)`
    : `list_transform(w, r -> (list_dot_product(r, z) + 0.02 * (random() - 0.5))::FLOAT)`;
}

function sourceSql(): string {
  return data === 'uniform'
    ? `range(${rows}) t(i)`
    : `(SELECT i, list_transform(range(${LATENT}), k -> (random() * 2 - 1)::FLOAT) AS z FROM range(${rows}) t(i))
       CROSS JOIN (SELECT list(list_transform(range(${LATENT}), k -> (random() * 2 - 1)::FLOAT)) AS w FROM range(${DIM}))`;
}

async function ensureFile(): Promise<void> {
  if (existsSync(file)) return;
  mkdirSync(benchDir, { recursive: true });
  const partial = `${file}.partial`;
  console.error(`writing ${file} with DuckDB (about a minute per million rows)...`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  await connection.run(`SELECT setseed(0.42)`);
  await connection.run(
    `COPY (SELECT i AS id, ${embeddingSql()} AS embedding,
       'file://src/f' || (i % 1000) || '.ts' AS uri, 'typescript' AS lang,
       (i % 500)::INTEGER AS start_line, (i % 500 + 20)::INTEGER AS end_line,
       'function f' || i || '() { return ' || i || '; }' AS text
     FROM ${sourceSql()})
     TO '${partial.replace(/'/g, "''")}' (FORMAT parquet, ROW_GROUP_SIZE ${Math.ceil(rows / rowGroups)}, COMPRESSION snappy)`,
  );
  connection.closeSync();
  instance.closeSync();
  renameSync(partial, file);
}

async function runReadAll(): Promise<number> {
  const all = await readAllChunks(file);
  return all.vectors.length;
}

async function runBatches(): Promise<number> {
  const reader = await openChunks(file);
  let floats = 0;
  try {
    for await (const batch of reader.batches()) floats += batch.vectors.length;
  } finally {
    reader.close();
  }
  return floats;
}

/**
 * The peer. Offsets are those of the Arrow C data interface structs on wasm32: ArrowArray is
 * length/null_count/offset/n_buffers/n_children as int64 (0..39), then buffers (40), children (44).
 */
async function runParquetWasm(): Promise<number> {
  const parquet = await pw.ParquetFile.fromFile(await openAsBlob(file));
  const meta = parquet.metadata();
  const n = meta.fileMetadata().numRows();
  const ids = new BigInt64Array(n);
  const vectors = new Float32Array(n * DIM);
  let at = 0;
  for (let group = 0; group < meta.numRowGroups(); group++) {
    const table = await parquet.read({
      rowGroups: [group],
      columns: ['id', 'embedding'],
      batchSize: meta.rowGroup(group).numRows(),
    });
    const stream = table.intoFFI();
    const memory = pw.wasmMemory().buffer;
    const view = new DataView(memory);
    const i64 = (addr: number) => Number(view.getBigInt64(addr, true));
    const ptr = (addr: number) => view.getUint32(addr, true);
    for (let b = 0; b < stream.numArrays(); b++) {
      const batch = stream.arrayAddr(b);
      const length = i64(batch);
      const idArray = ptr(ptr(batch + 44));
      const listArray = ptr(ptr(batch + 44) + 4);
      const floatArray = ptr(ptr(listArray + 44));
      if (i64(floatArray) !== length * DIM || i64(listArray + 16) !== 0) {
        throw new Error(`row group ${group}: not ${length} back-to-back lists of ${DIM}`);
      }
      ids.set(new BigInt64Array(memory, ptr(ptr(idArray + 40) + 4) + i64(idArray + 16) * 8, length), at);
      const values = ptr(ptr(floatArray + 40) + 4) + i64(floatArray + 16) * 4;
      vectors.set(new Float32Array(memory, values, length * DIM), at * DIM);
      at += length;
    }
    stream.free();
  }
  parquet.free();
  if (at !== n) throw new Error(`read ${at} rows of ${n}`);
  return vectors.length;
}

function freshTouchSeconds(floats: number): number {
  const start = performance.now();
  const fresh = new Float32Array(floats);
  fresh.fill(1);
  return (performance.now() - start) / 1000;
}

async function measure(m: Mode): Promise<Result> {
  warmPageCache(file);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const floats = await (m === 'read-all' ? runReadAll() : m === 'batches' ? runBatches() : runParquetWasm());
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    mode: m,
    rows,
    dim: DIM,
    seconds,
    mbPerSecond: (floats * 4) / 1e6 / seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    peakRssMB: peakRssMB(),
    freshTouchSeconds: freshTouchSeconds(floats),
  };
}

function print(r: Result): void {
  console.log(
    `${r.mode.padEnd(13)} ${r.rows} x ${r.dim}: ${r.seconds.toFixed(2)} s, ${r.mbPerSecond.toFixed(0)} MB/s of floats, ` +
      `CPU ${r.cpuSeconds.toFixed(2)} s, ` +
      `peak RSS ${r.peakRssMB.toFixed(0)} MB (fresh ${((r.rows * r.dim * 4) / 1e9).toFixed(2)} GB first touch: ${r.freshTouchSeconds.toFixed(2)} s)`,
  );
}

async function main(): Promise<void> {
  if (!Number.isSafeInteger(rows) || rows <= 0) throw new Error(`--rows must be a positive integer`);
  await ensureFile();
  if (mode === 'make') return; // only make the file (bench/build.ts uses this)
  if ((MODES as readonly string[]).includes(mode)) {
    const result = await measure(mode as Mode);
    print(result);
    console.log(JSON.stringify(result));
    return;
  }
  if (mode !== 'all') throw new Error(`--mode must be all or one of ${MODES.join(', ')}`);
  const self = fileURLToPath(import.meta.url);
  const shape = ['--dim', String(DIM), '--row-groups', String(rowGroups)];
  for (const m of MODES) {
    const child = spawnSync(
      process.execPath,
      [self, '--rows', String(rows), '--data', data, '--mode', m, ...shape],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    if (child.status !== 0) throw new Error(`mode ${m} failed with status ${child.status}`);
    const json = child.stdout.trim().split('\n').at(-1)!;
    print(JSON.parse(json) as Result);
  }
}

await main();
