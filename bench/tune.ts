/**
 * `tune` and `search` benchmark, against Python FAISS doing the same measurement by hand.
 *
 *   node dist/bench/tune.js [--rows 1000000] [--hnsw-rows 1000000] [--data lowrank] [--sample 1000]
 *                           [--runs 3] [--rounds 2] [--generic-addon FILE] [--tiny]
 *
 * `--tiny` overrides the sizes (2048 rows, 100 queries, one run and round, one thread): seconds, for
 * test/bench-smoke.test.ts, which checks that the bench and its Python peer still run.
 *
 * For an IVF1024,Flat index and an HNSW32 index (about 45 min to build on 1M here: build it first with
 * `indexctl build` into the same root and version name and this reuses it), built from the bench
 * chunks files (low intrinsic dimension by default, see bench/ingest.ts):
 * 1. `indexctl tune V --target-recall 0.95 --write --plot` with the default ParameterSpace ranges and
 *    the default 60 s budget: what a sweep costs, what it cuts and prunes, what it picks and persists
 *    (the AVX2 addon);
 * 2. `indexctl tune V --params P` with the addon linked against Debian's generic libfaiss (the library
 *    Python uses), and bench/tune_peer.py measuring the same settings on the same file and the same
 *    sampled queries: recall must be equal, QPS and latency within noise;
 *    The two alternate for --rounds rounds and each keeps its best (the machine is shared);
 * 3. single-query search latency at k=10 on one thread (the first --search-queries queries): `openIndex().search` (hydrated from the
 *    catalog), the bare `FaissIndex.search` inside it, the hydration alone, and Python's bare
 *    `index.search` (Python here has no duckdb module, so its peer has no lookup: the hydration cost
 *    is the difference between our two figures).
 * Every step runs in its own process; the chunks files and their raw .f32/.ids exports are made on
 * first use (bench/data.ts).
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { build } from '../src/core/build/build.js';
import { sampleRows } from '../src/core/build/train-sample.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { percentile } from '../src/core/tune/measure.js';
import { openIndex } from '../src/core/search/open-index.js';
import type { TuneReport } from '../src/core/tune/tune.js';
import { type BenchData, chunksFile, D, rawFiles } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'hnsw-rows': { type: 'string', default: '1000000' },
    data: { type: 'string', default: 'lowrank' },
    sample: { type: 'string', default: '1000' },
    runs: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '2' },
    'search-queries': { type: 'string', default: '300' },
    threads: { type: 'string', default: String(os.availableParallelism()) },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    'generic-addon': {
      type: 'string',
      default: path.join(os.homedir(), '.cache/indexctl/addon-generic/indexctl_faiss.node'),
    },
    'search-child': { type: 'string' },
    tiny: { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (values.tiny) {
  // IVF1024 needs 1024 vectors to train; the sizes are named in the version names, so a tiny root
  // never reuses a full-size version.
  Object.assign(values, { rows: '2048', 'hnsw-rows': '2048', sample: '100', 'search-queries': '50' });
  Object.assign(values, { runs: '1', rounds: '1', threads: '1' });
}
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const bin = path.join(repo, 'bin/indexctl.js');
const python = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';
const K = 10;
const runs = Number(values.runs);
const rounds = Number(values.rounds);
const threads = Number(values.threads);

interface Latency {
  p50: number;
  p95: number;
  p99: number;
}

interface PeerReport {
  truth_s: number;
  points: ({ params: string; recall: number; qps: number } & Latency)[];
  latency_k10: Latency;
}

/** Child mode: single-query latencies of openIndex().search and its parts, one FAISS thread. */
async function searchChild(root: string, version: string, params: string, rowsFile: string, vectors: string) {
  const rows = new Uint32Array(new Uint8Array(readFileSync(rowsFile)).buffer).subarray(
    0,
    Number(values['search-queries']),
  );
  const q = new Float32Array(rows.length * D);
  const fd = openSync(vectors, 'r');
  rows.forEach((row, i) => readSync(fd, new Uint8Array(q.buffer, i * D * 4, D * 4), 0, D * 4, row * D * 4));
  closeSync(fd);
  const handle = await openIndex({ root, version }, { parameters: params });
  FaissIndex.setNumThreads(1);
  const one = (i: number) => q.subarray(i * D, (i + 1) * D);
  const best = async (fn: (i: number) => unknown): Promise<Latency> => {
    let bestRun: Float64Array | undefined;
    let bestTotal = Infinity;
    for (let r = 0; r < runs; r++) {
      const times = new Float64Array(rows.length);
      for (let i = 0; i < rows.length; i++) {
        const t = process.hrtime.bigint();
        await fn(i);
        times[i] = Number(process.hrtime.bigint() - t) / 1e6;
      }
      const total = times.reduce((a, b) => a + b, 0);
      if (total < bestTotal) [bestRun, bestTotal] = [times, total];
    }
    const s = bestRun!.sort();
    return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99) };
  };
  const bare = await best((i) => handle.index.search(one(i), K));
  const hydrated = await best((i) => handle.search(one(i), K));
  const answers = Array.from(rows, (_, i) => handle.index.search(one(i), K).labels);
  const hydrateOnly = await best((i) => handle.catalog.hydrate(answers[i]!));
  await handle.close();
  console.log(JSON.stringify({ bare, hydrated, hydrateOnly, simd: FaissIndex.buildInfo().simd }));
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  const res = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 1 << 28 });
  if (res.status !== 0 && res.status !== 3) {
    throw new Error(`${cmd} ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  }
  return res.stdout;
}

function lastJson<T>(text: string): T {
  return JSON.parse(text.trim().split('\n').pop()!) as T;
}

function tuneCli(root: string, version: string, extra: string[], env: NodeJS.ProcessEnv = {}): TuneReport {
  const out = run(
    process.execPath,
    [
      bin,
      '--root',
      root,
      '--threads',
      String(threads),
      'tune',
      version,
      '--sample',
      values.sample!,
      '--runs',
      String(runs),
      '--json',
      ...extra,
    ],
    env,
  );
  return JSON.parse(out) as TuneReport;
}

const f = (x: number, digits = 3) => x.toFixed(digits);

async function main(): Promise<void> {
  const data = values.data as BenchData;
  const root = path.join(values.dir!, `tune-root-${data}`);
  const cases = [
    {
      version: `ivf-${values.rows}`,
      rows: Number(values.rows),
      factory: 'IVF1024,Flat',
      params: 'nprobe=1,4,16,64',
      search: 'nprobe=16',
    },
    {
      version: `hnsw-${values['hnsw-rows']}`,
      rows: Number(values['hnsw-rows']),
      factory: 'HNSW32',
      params: 'efSearch=16,32,64,128',
      search: 'efSearch=64',
    },
  ];
  const sweepRows: string[] = [];
  const peerRows: string[] = [];
  const searchRows: string[] = [];
  for (const c of cases) {
    const chunks = chunksFile(values.dir!, c.rows, data);
    const raw = await rawFiles(chunks);
    if (!existsSync(path.join(root, 'versions', c.version))) {
      const t = performance.now();
      await build({ root, chunks, factory: c.factory, version: c.version });
      console.error(`built ${c.version} (${c.factory}) in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    }
    const rowsFile = path.join(values.dir!, `tune-rows-${c.rows}-${values.sample}.u32`);
    const plot = path.join(values.dir!, `tune-${data}-${c.version}.svg`);
    const rows = sampleRows(c.rows, Number(values.sample), 0);
    writeFileSync(rowsFile, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));

    // 1. The default sweep with the default budget, AVX2 addon; the chosen point is persisted.
    const sweep = tuneCli(root, c.version, ['--target-recall', '0.95', '--write', '--plot', plot]);
    const measured = sweep.points.filter((p) => p.status === 'measured');
    sweepRows.push(
      `| ${c.version} (${sweep.factory}) | ${sweep.vectors} | ${sweep.ranges.map((r) => `${r.name} ${r.values.join(',')}`).join('; ')} | ` +
        `${f(sweep.seconds.truth_read + sweep.seconds.truth_search, 1)} | ${f(sweep.seconds.sweep, 1)} | ${measured.length} | ` +
        `${sweep.cut.join(', ') || '-'} | ${sweep.pruned.join(', ') || '-'} | ` +
        `${sweep.chosen ? `${sweep.chosen.params} (${f(sweep.chosen.recall!)}, ${Math.round(sweep.chosen.qps!)} QPS)` : `none; best ${sweep.best?.params} (${f(sweep.best!.recall!)})`} |`,
    );
    console.error(
      JSON.stringify({ sweep: { version: c.version, points: sweep.points, seconds: sweep.seconds } }),
    );

    // 2. Fixed settings: indexctl (generic addon, the library Python uses) vs the Python peer,
    // alternating for --rounds rounds; each side keeps its best QPS and latencies (the machine is shared).
    const specs = c.params
      .split('=')[1]!
      .split(',')
      .map((v) => `${c.params.split('=')[0]}=${v}`);
    const generics: TuneReport[] = [];
    const peers: PeerReport[] = [];
    for (let round = 0; round < rounds; round++) {
      generics.push(
        tuneCli(root, c.version, ['--params', c.params, '--max-seconds', '600'], {
          INDEXCTL_ADDON: values['generic-addon']!,
        }),
      );
      peers.push(
        lastJson<PeerReport>(
          run(python, [
            path.join(repo, 'bench/tune_peer.py'),
            path.join(root, 'versions', c.version, 'faiss.index'),
            raw.vectors,
            raw.ids,
            String(D),
            rowsFile,
            'l2',
            String(K),
            String(runs),
            String(threads),
            specs.join(';'),
            values['search-queries']!,
            c.search,
          ]),
        ),
      );
    }
    // tune prunes settings past the one that reaches recall 1 even when --params names them (small
    // data gets there early): such a setting has no figures on our side and is reported as pruned.
    const bestOurs = (spec: string) => {
      const all = generics.map((g) => g.points.find((p) => p.params === spec && p.status === 'measured'));
      if (!all.every((p) => p !== undefined)) return undefined;
      return {
        recall: all[0]!.recall!,
        qps: Math.max(...all.map((p) => p.qps!)),
        p50: Math.min(...all.map((p) => p.latency_ms!.p50)),
        p99: Math.min(...all.map((p) => p.latency_ms!.p99)),
      };
    };
    const bestTheirs = (spec: string) => {
      const all = peers.map((r) => r.points.find((p) => p.params === spec)!);
      return {
        recall: all[0]!.recall,
        qps: Math.max(...all.map((p) => p.qps)),
        p50: Math.min(...all.map((p) => p.p50)),
        p99: Math.min(...all.map((p) => p.p99)),
      };
    };
    for (const spec of specs) {
      const ours = bestOurs(spec);
      const theirs = bestTheirs(spec);
      const avx = sweep.points.find((p) => p.params === spec && p.status === 'measured');
      if (!ours) {
        peerRows.push(
          `| ${c.version} | ${spec} | pruned / ${f(theirs.recall, 4)} | - / ${Math.round(theirs.qps)} | - / ${f(theirs.p50)} | - / ${f(theirs.p99)} | - |`,
        );
        continue;
      }
      peerRows.push(
        `| ${c.version} | ${spec} | ${f(ours.recall, 4)} / ${f(theirs.recall, 4)} | ` +
          `${Math.round(ours.qps)} / ${Math.round(theirs.qps)} (${f(ours.qps / theirs.qps, 2)}x) | ` +
          `${f(ours.p50)} / ${f(theirs.p50)} (${f(ours.p50 / theirs.p50, 2)}x) | ${f(ours.p99)} / ${f(theirs.p99)} | ` +
          `${avx ? `${Math.round(avx.qps!)} QPS, p50 ${f(avx.latency_ms!.p50)}` : 'not measured'} |`,
      );
    }
    console.error(
      JSON.stringify({
        generic: generics.map((g) => ({ version: c.version, points: g.points, seconds: g.seconds })),
        peers,
      }),
    );

    // 3. Single-query search latency, k=10, one thread.
    for (const [label, addon] of [
      ['generic', values['generic-addon']!],
      ['avx2', undefined],
    ] as const) {
      const child = lastJson<{ bare: Latency; hydrated: Latency; hydrateOnly: Latency }>(
        run(
          process.execPath,
          [
            here + '/tune.js',
            '--search-child',
            [root, c.version, c.search, rowsFile, raw.vectors].join('|'),
            '--runs',
            String(runs),
            '--search-queries',
            values['search-queries']!,
          ],
          addon ? { INDEXCTL_ADDON: addon } : {},
        ),
      );
      searchRows.push(
        `| ${c.version} | ${c.search} | ${label} | ${f(child.hydrated.p50)} / ${f(child.hydrated.p99)} | ${f(child.bare.p50)} / ${f(child.bare.p99)} | ` +
          `${f(child.hydrateOnly.p50)} / ${f(child.hydrateOnly.p99)} | ${label === 'generic' ? `${f(Math.min(...peers.map((r) => r.latency_k10.p50)))} / ${f(Math.min(...peers.map((r) => r.latency_k10.p99)))}` : '-'} |`,
      );
    }
  }
  console.log(
    `\n### tune --target-recall 0.95 --write: default sweep (AVX2 addon, ${threads} threads, ${values.sample} sampled queries, k=${K}, --max-seconds 60, data ${data})\n`,
  );
  console.log(
    '| version | vectors | ranges (ParameterSpace) | truth s | sweep s | measured | cut | pruned | chosen (recall, QPS) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  sweepRows.forEach((r) => console.log(r));
  console.log(
    `\n### tune vs Python FAISS, same index file, queries and settings (generic libfaiss on both sides)\n`,
  );
  console.log(
    '| version | setting | recall@10 indexctl / python | QPS indexctl / python | p50 ms | p99 ms | AVX2 addon (default sweep) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  peerRows.forEach((r) => console.log(r));
  console.log(`\n### single-query search, k=10, 1 thread: p50 / p99 ms\n`);
  console.log(
    '| version | setting | addon | openIndex().search (hydrated) | FaissIndex.search (bare) | catalog.hydrate only | python index.search (bare) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  searchRows.forEach((r) => console.log(r));
}

if (values['search-child']) {
  const [root, version, params, rowsFile, vectors] = values['search-child'].split('|') as [
    string,
    string,
    string,
    string,
    string,
  ];
  await searchChild(root, version, params, rowsFile, vectors);
} else {
  await main();
}
