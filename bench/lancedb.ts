/**
 * indexctl side by side with LanceDB (issue 21 item 3), on the same clustered chunks file:
 *
 *   node dist/bench/lancedb.js [--rows 200000] [--nlist 256] [--m 48] [--queries 200]
 *                              [--nprobes 1,2,4,8,16,32,64] [--target-recall 0.9] [--change 0.01] [--refine R]
 *                              [--tiny]
 *
 * `--refine R` re-ranks R x k candidates by exact distance on both sides: IVF-PQ then RFlat (the full
 * vectors kept in faiss.index, `k_factor_rf=R`) vs LanceDB's `refineFactor(R)` (the vectors read back
 * from the dataset's column); without it PQ48 codes alone cap recall@10 around 0.7 on this data.
 * `--tiny` overrides the sizes (3000 rows, IVF16, 50 queries): seconds, for test/bench-smoke.test.ts.
 * Steps, each side in its own process (its peak RSS, VmHWM, is its own), LanceDB first, then ours:
 * 1. ingest + IVF-PQ build: `build` with IVF<nlist>,PQ<m>np vs LanceDB createTable + createIndex
 *    IVF_PQ (same partitions, sub-vectors, 8-bit codes, training sample and k-means iterations);
 *    wall, peak RSS, bytes on disk.
 * 2. recall@10 against exact ground truth (FAISS Flat over all rows) of queries sampled from the rows,
 *    and single-query latency with the hydration of uri and lines (`openIndex().search`, LanceDB
 *    selecting its columns), for every nprobe; the summary compares each side's smallest nprobe that
 *    reaches the target recall (or the best recall both reach, when lower).
 * 3. a 1% change (bench/change.ts): `build --base` of the whole NEW file vs LanceDB delete + add of
 *    the delta + optimize; recall after at the same nprobe.
 * 4. version switch: `publish` of the new version and `rollback` (each runs a level-3 verify) vs
 *    LanceDB checkout + restore of the version before the change.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { sampleRows } from '../src/core/build/train-sample.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { publish, rollback } from '../src/core/lifecycle/publish.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { openIndex } from '../src/core/search/open-index.js';
import { percentile } from '../src/core/tune/measure.js';
import { changeDelta, changedChunksFile } from './change.js';
import { chunksFile, D, warmPageCache } from './data.js';
import { chunksTable, lanceVersion, loadLance, type LanceTable } from './lancedb-peer.js';
import { peakRssMB } from './rss.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '200000' },
    nlist: { type: 'string', default: '256' },
    m: { type: 'string', default: '48' },
    queries: { type: 'string', default: '200' },
    nprobes: { type: 'string', default: '1,2,4,8,16,32,64' },
    'target-recall': { type: 'string', default: '0.9' },
    change: { type: 'string', default: '0.01' },
    refine: { type: 'string', default: '0' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
    child: { type: 'string' },
    job: { type: 'string' },
  },
});
if (values.tiny) Object.assign(values, { rows: '3000', nlist: '16', queries: '50', nprobes: '1,2,4,8,16' });
const K = 10;
const here = path.dirname(new URL(import.meta.url).pathname);
const nlist = Number(values.nlist);
const m = Number(values.m);
const refine = Number(values.refine);
const factory = `IVF${nlist},PQ${m}np${refine > 0 ? ',RFlat' : ''}`;
/** The training sample and k-means iterations of FAISS's IVF training (64 per list, 25), given to LanceDB too. */
const sampleRate = 64;
const maxIterations = 25;

interface Point {
  nprobe: number;
  recall: number;
  p50: number;
  p99: number;
}

// ---------------------------------------------------------------------------------------------
// Children: one measured step each, one JSON line on stdout.

function readF32(file: string): Float32Array {
  const b = readFileSync(file);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function readI64(file: string): BigInt64Array {
  const b = readFileSync(file);
  return new BigInt64Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** Single-query latencies and recall@10 of `search` over the queries, after one untimed pass. */
async function sweep(
  nprobes: number[],
  queries: Float32Array,
  truth: BigInt64Array,
  search: (q: Float32Array, nprobe: number) => Promise<bigint[]>,
): Promise<Point[]> {
  const nq = queries.length / D;
  const one = (i: number) => queries.subarray(i * D, (i + 1) * D);
  // Touches the index and the columns the way a warm service has them.
  for (let i = 0; i < nq; i++) await search(one(i), Math.max(...nprobes));
  const points: Point[] = [];
  for (const nprobe of nprobes) {
    const times = new Float64Array(nq);
    let found = 0;
    for (let i = 0; i < nq; i++) {
      const t = process.hrtime.bigint();
      const ids = await search(one(i), nprobe);
      times[i] = Number(process.hrtime.bigint() - t) / 1e6;
      const want = new Set(truth.subarray(i * K, (i + 1) * K));
      found += ids.filter((id) => want.has(id)).length;
    }
    times.sort();
    points.push({ nprobe, recall: found / (nq * K), p50: percentile(times, 50), p99: percentile(times, 99) });
  }
  return points;
}

async function openLance(dir: string): Promise<LanceTable> {
  return (await loadLance().connect(dir)).openTable('chunks');
}

const children: Record<string, (job: Record<string, unknown>) => Promise<Record<string, unknown>>> = {
  async 'lance-build'(job) {
    const t0 = performance.now();
    const { table } = await chunksTable(job.chunks as string);
    const t1 = performance.now();
    const db = await loadLance().connect(job.dir as string);
    const t = await db.createTable('chunks', table, { mode: 'overwrite' });
    const t2 = performance.now();
    const config = loadLance().Index.ivfPq({
      numPartitions: nlist,
      numSubVectors: m,
      numBits: 8,
      distanceType: 'l2',
      maxIterations,
      sampleRate,
    });
    await t.createIndex('vector', { config });
    const t3 = performance.now();
    return {
      seconds: (t3 - t0) / 1000,
      read_s: (t1 - t0) / 1000,
      write_s: (t2 - t1) / 1000,
      index_s: (t3 - t2) / 1000,
      version: await t.version(),
      maxrss_mb: peakRssMB(),
    };
  },
  async 'lance-search'(job) {
    const t = await openLance(job.dir as string);
    const points = await sweep(
      job.nprobes as number[],
      readF32(job.queries as string),
      readI64(job.truth as string),
      async (q, nprobe) => {
        let query = t.vectorSearch(q).column('vector').nprobes(nprobe).limit(K);
        if (refine > 0) query = query.refineFactor(refine);
        const rows = await query.select(['id', 'uri', 'start_line', 'end_line']).toArray();
        return rows.map((r) => BigInt(r.id as bigint));
      },
    );
    const [index] = await t.listIndices();
    const stats = index ? await t.indexStats(index.name) : undefined;
    return { points, unindexed: stats?.numUnindexedRows ?? null, version: await t.version() };
  },
  async 'lance-change'(job) {
    const t = await openLance(job.dir as string);
    const ids = job.deleteIds as string[];
    const t0 = performance.now();
    await t.delete(`id IN (${ids.join(', ')})`);
    const t1 = performance.now();
    const { table, rows } = await chunksTable(job.addFile as string);
    const t2 = performance.now();
    await t.add(table);
    const t3 = performance.now();
    await t.optimize();
    const t4 = performance.now();
    const [index] = await t.listIndices();
    const stats = index ? await t.indexStats(index.name) : undefined;
    return {
      seconds: (t4 - t0) / 1000,
      delete_s: (t1 - t0) / 1000,
      read_s: (t2 - t1) / 1000,
      add_s: (t3 - t2) / 1000,
      optimize_s: (t4 - t3) / 1000,
      added: rows,
      deleted: ids.length,
      count: await t.countRows(),
      unindexed: stats?.numUnindexedRows ?? null,
      version: await t.version(),
      maxrss_mb: peakRssMB(),
    };
  },
  async 'lance-restore'(job) {
    const t = await openLance(job.dir as string);
    const from = await t.version();
    const t0 = performance.now();
    await t.checkout(job.version as number);
    const t1 = performance.now();
    await t.restore();
    const t2 = performance.now();
    return {
      checkout_s: (t1 - t0) / 1000,
      restore_s: (t2 - t1) / 1000,
      seconds: (t2 - t0) / 1000,
      from,
      version: await t.version(),
      count: await t.countRows(),
    };
  },
  async 'ours-search'(job) {
    const handle = await openIndex({ root: job.root as string, version: job.version as string });
    FaissIndex.setNumThreads(1);
    const points = await sweep(
      job.nprobes as number[],
      readF32(job.queries as string),
      readI64(job.truth as string),
      async (q, nprobe) => {
        handle.index.setParameters(`nprobe=${nprobe}${refine > 0 ? `,k_factor_rf=${refine}` : ''}`);
        const [hits] = await handle.search(q, K);
        return hits!.map((h) => h.id);
      },
    );
    await handle.close();
    return { points };
  },
  async 'ours-switch'(job) {
    const root = job.root as string;
    await publish({ root, version: 'v1' });
    const t0 = performance.now();
    await publish({ root, version: 'v2', expectCurrent: 'v1' });
    const t1 = performance.now();
    const back = await rollback({ root });
    const t2 = performance.now();
    return { publish_s: (t1 - t0) / 1000, rollback_s: (t2 - t1) / 1000, version: back.version };
  },
};

// ---------------------------------------------------------------------------------------------
// The parent: data, ground truth, the steps in order, the tables.

/** What the children read from their own argv: the index settings as this run resolved them. */
const indexOptions = ['--nlist', String(nlist), '--m', String(m), '--refine', String(refine)];

function child(name: string, job: Record<string, unknown>): Record<string, unknown> {
  // In a file: the ids a change deletes would outgrow one argument (128 KiB) from a few million rows.
  const jobFile = path.join(values.dir!, `lancedb-job-${process.pid}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  const res = spawnSync(
    process.execPath,
    [path.join(here, 'lancedb.js'), '--child', name, '--job', jobFile, ...indexOptions],
    { encoding: 'utf8', maxBuffer: 1 << 26, env: { ...process.env, ...childEnv } },
  );
  if (res.status !== 0) throw new Error(`${name} exited ${res.status}:\n${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Forwarded to the children: the CLI's OpenMP policy (docs/PERFORMANCE.md), nprobe etc. passed explicitly. */
const childEnv = { OMP_WAIT_POLICY: process.env.OMP_WAIT_POLICY ?? 'PASSIVE' };

function ourBuild(chunks: string, root: string, version: string, base?: string): Record<string, unknown> {
  const args = [path.join(here, 'build-child.js'), chunks, factory, root, version, ...(base ? [base] : [])];
  const res = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 26,
    env: { ...process.env, ...childEnv },
  });
  if (res.status !== 0) throw new Error(`build ${version} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

/** Bytes of the files under `dir`, each inode once (a version's hard links count once). */
function diskBytes(dir: string, seen = new Set<number>()): number {
  let sum = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    const st = lstatSync(file);
    if (entry.isDirectory()) sum += diskBytes(file, seen);
    else if (entry.isFile() && !seen.has(st.ino)) {
      seen.add(st.ino);
      sum += st.size;
    }
  }
  return sum;
}

/** Exact top-K ids of the queries over a chunks file's rows (FAISS Flat, squared L2). */
async function groundTruth(chunks: string, queries: Float32Array, out: string): Promise<void> {
  const all = await readAllChunks(chunks);
  const flat = FaissIndex.fromFactory(D, 'Flat');
  flat.add(all.vectors);
  const { labels } = await flat.searchAsync(queries, K);
  flat.dispose();
  const ids = BigInt64Array.from(labels, (row) => (row < 0n ? -1n : all.ids[Number(row)]!));
  writeFileSync(out, new Uint8Array(ids.buffer));
}

async function main(): Promise<void> {
  const rows = Number(values.rows);
  const change = Number(values.change);
  const nprobes = values.nprobes!.split(',').map(Number);
  const target = Number(values['target-recall']);
  const dir = values.dir!;
  const base = chunksFile(dir, rows, 'lowrank');
  const fresh = await changedChunksFile(dir, base, change);
  const delta = await changeDelta(dir, base, change);
  const lanceDir = path.join(dir, `lancedb-peer-${rows}`);
  const root = path.join(dir, `lancedb-indexctl-${rows}`);
  for (const d of [lanceDir, root]) rmSync(d, { recursive: true, force: true });

  // Queries: rows of the data (as bench/tune.ts samples them); truth before and after the change.
  const load = os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  const all = await readAllChunks(base);
  const picked = sampleRows(rows, Number(values.queries), 7);
  const queries = new Float32Array(picked.length * D);
  picked.forEach((row, i) => queries.set(all.vectors.subarray(row * D, (row + 1) * D), i * D));
  const qFile = path.join(dir, `lancedb-queries-${rows}.f32`);
  writeFileSync(qFile, new Uint8Array(queries.buffer));
  const truth1 = path.join(dir, `lancedb-truth-${rows}-v1.i64`);
  const truth2 = path.join(dir, `lancedb-truth-${rows}-v2.i64`);
  await groundTruth(base, queries, truth1);
  await groundTruth(fresh, queries, truth2);

  // 1. ingest + index build
  warmPageCache(base);
  const lBuild = child('lance-build', { chunks: base, dir: lanceDir });
  const lBuildBytes = diskBytes(lanceDir);
  warmPageCache(base);
  const oBuild = ourBuild(base, root, 'v1');
  const oBuildBytes = diskBytes(path.join(root, 'versions/v1'));

  // 2. recall and latency
  const lSearch = child('lance-search', { dir: lanceDir, queries: qFile, truth: truth1, nprobes });
  const oSearch = child('ours-search', { root, version: 'v1', queries: qFile, truth: truth1, nprobes });
  const lPoints = lSearch.points as Point[];
  const oPoints = oSearch.points as Point[];
  const best = (ps: Point[]) => Math.max(...ps.map((p) => p.recall));
  const matched = Math.min(target, best(lPoints), best(oPoints));
  const at = (ps: Point[]) => ps.find((p) => p.recall >= matched - 1e-9)!;
  const [lAt, oAt] = [at(lPoints), at(oPoints)];

  // 3. the 1% change
  const lChange = child('lance-change', {
    dir: lanceDir,
    addFile: delta.addFile,
    deleteIds: delta.deleteIds.map(String),
  });
  warmPageCache(fresh);
  // FAISS 1.7.3 cannot remove from a refine stage, so `build --base` refuses a base with RFlat
  // (removed and changed chunks): with --refine, ours rebuilds NEW in full.
  const oChange = refine > 0 ? ourBuild(fresh, root, 'v2') : ourBuild(fresh, root, 'v2', 'v1');
  const lAfter = child('lance-search', {
    dir: lanceDir,
    queries: qFile,
    truth: truth2,
    nprobes: [lAt.nprobe],
  });
  const oAfter = child('ours-search', {
    root,
    version: 'v2',
    queries: qFile,
    truth: truth2,
    nprobes: [oAt.nprobe],
  });
  const lChangeBytes = diskBytes(lanceDir);
  const oChangeBytes = diskBytes(path.join(root, 'versions'));

  // 4. version switch
  const lSwitch = child('lance-restore', { dir: lanceDir, version: lBuild.version });
  const oSwitch = child('ours-switch', { root });
  // Each side did what its row says: the change landed, and the switch went back to the first version.
  const expected = rows - delta.deleteIds.length + (lChange.added as number);
  if (lChange.count !== expected)
    throw new Error(`LanceDB holds ${String(lChange.count)} rows after the change, not ${expected}`);
  if (lSwitch.count !== rows)
    throw new Error(`LanceDB holds ${String(lSwitch.count)} rows after restore, not ${rows}`);
  if (oSwitch.version !== 'v1') throw new Error(`rollback went to ${String(oSwitch.version)}, not v1`);

  const n = (x: unknown, digits = 1) => (x as number).toFixed(digits);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(0);
  const after = (r: Record<string, unknown>) => (r.points as Point[])[0]!;
  const incremental = oChange.incremental as { removed: number; added: number; changed: number } | undefined;
  const ourChange = incremental
    ? `build --base of NEW (${incremental.removed} removed, ${incremental.changed} changed, ${incremental.added} added)`
    : 'full build of NEW (build --base cannot remove from RFlat in FAISS 1.7.3)';
  // The build's stages that take time (StageClock, src/core/build/stages.ts); they overlap.
  const stages = (r: Record<string, unknown>) =>
    Object.entries(r.phases as Record<string, number>)
      .filter(([k, v]) => k !== 'total' && v >= 0.05)
      .map(([k, v]) => `${k} ${v.toFixed(1)}`)
      .join(', ');
  const lines: [string, string, string, string, string][] = [
    [
      'ingest + IVF-PQ build',
      'wall s',
      n(oBuild.seconds),
      n(lBuild.seconds),
      `indexctl: ${stages(oBuild)}; LanceDB: read Parquet ${n(lBuild.read_s)}, write table ${n(lBuild.write_s)}, index ${n(lBuild.index_s)}`,
    ],
    ['ingest + IVF-PQ build', 'peak RSS MB', n(oBuild.maxrss_mb, 0), n(lBuild.maxrss_mb, 0), ''],
    [
      'ingest + IVF-PQ build',
      'disk MB',
      mb(oBuildBytes),
      mb(lBuildBytes),
      'indexctl: the version directory (chunks copy, faiss.index, catalog, manifest)',
    ],
    [
      `search at matched recall (${matched.toFixed(3)})`,
      'nprobe',
      String(oAt.nprobe),
      String(lAt.nprobe),
      'smallest nprobe reaching it',
    ],
    ['search at matched recall', 'recall@10', oAt.recall.toFixed(4), lAt.recall.toFixed(4), ''],
    ['search at matched recall', 'p50 ms (hydrated)', n(oAt.p50, 3), n(lAt.p50, 3), 'single query, k=10'],
    ['search at matched recall', 'p99 ms (hydrated)', n(oAt.p99, 3), n(lAt.p99, 3), ''],
    [
      `${(change * 100).toFixed(0)}% change`,
      'wall s',
      n(oChange.seconds),
      n(lChange.seconds),
      `indexctl: ${ourChange}; LanceDB: delete ${n(lChange.delete_s)}, read delta ${n(lChange.read_s)}, ` +
        `add ${n(lChange.add_s)}, optimize ${n(lChange.optimize_s)}`,
    ],
    [
      `${(change * 100).toFixed(0)}% change`,
      'peak RSS MB',
      n(oChange.maxrss_mb, 0),
      n(lChange.maxrss_mb, 0),
      '',
    ],
    [
      `${(change * 100).toFixed(0)}% change`,
      'recall@10 after',
      after(oAfter).recall.toFixed(4),
      after(lAfter).recall.toFixed(4),
      `same nprobe; LanceDB rows left unindexed: ${String(lAfter.unindexed)}`,
    ],
    [
      `${(change * 100).toFixed(0)}% change`,
      'disk MB, both versions',
      mb(oChangeBytes),
      mb(lChangeBytes),
      'indexctl: versions/ (v1 + v2); LanceDB: the dataset with its old versions',
    ],
    [
      'version switch',
      'publish new version s',
      n(oSwitch.publish_s, 3),
      '-',
      'indexctl: verify level 3, then the flip; LanceDB: each write commits a version readers see',
    ],
    [
      'version switch',
      'back to the previous version s',
      n(oSwitch.rollback_s, 3),
      n(lSwitch.seconds, 3),
      `indexctl: rollback (verify level 3 of v1, then the flip); LanceDB: checkout ${n(lSwitch.checkout_s, 3)} + restore ${n(lSwitch.restore_s, 3)}`,
    ],
  ];
  console.log(
    `${rows} x ${D} lowrank, ${factory} vs LanceDB ${lanceVersion()} IVF_PQ (${nlist} partitions, ${m} sub-vectors, 8 bits${refine > 0 ? `, refineFactor ${refine}` : ''}), ` +
      `${picked.length} queries, k=${K}; load average at the start ${load}\n`,
  );
  console.log('| step | measure | indexctl | LanceDB | notes |');
  console.log('|---|---|---|---|---|');
  for (const l of lines) console.log(`| ${l.join(' | ')} |`);
  console.log(
    '\n| nprobe | recall@10 indexctl | recall@10 LanceDB | p50 ms indexctl | p50 ms LanceDB | p99 ms indexctl | p99 ms LanceDB |',
  );
  console.log('|---|---|---|---|---|---|---|');
  oPoints.forEach((o, i) => {
    const l = lPoints[i]!;
    console.log(
      `| ${o.nprobe} | ${o.recall.toFixed(4)} | ${l.recall.toFixed(4)} | ${n(o.p50, 3)} | ${n(l.p50, 3)} | ${n(o.p99, 3)} | ${n(l.p99, 3)} |`,
    );
  });
  for (const d of [lanceDir, root]) rmSync(d, { recursive: true, force: true });
  rmSync(path.join(dir, `lancedb-job-${process.pid}.json`), { force: true });
}

if (values.child !== undefined) {
  const run = children[values.child];
  if (!run) throw new Error(`unknown --child ${values.child}`);
  const job = JSON.parse(readFileSync(values.job!, 'utf8')) as Record<string, unknown>;
  console.log(JSON.stringify(await run(job)));
} else {
  await main();
}
