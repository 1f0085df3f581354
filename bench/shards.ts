/**
 * Sharded builds against the single build (issue 15 item 7): `indexctl train` once, then either one
 * `build --trained` (the single path) or N `build --trained --shard I/N` processes and a `merge`,
 * each a real CLI process timed from outside (wall) with its own peak RSS (VmHWM, through
 * bench/rss-preload.ts) and CPU time.
 *
 *   node dist/bench/shards.js [--rows 1000000] [--dim 384] [--row-groups 40] [--factory IVF1024,Flat]
 *     [--shards 4] [--parallel 4,2] [--shard-threads 1] [--train-sample N] [--plain]
 *     [--memory-budget 16G] [--data lowrank|uniform] [--data-dir DIR] [--keep] [--tiny]
 *
 * `--parallel 4,2` runs the N shards twice: 4 at a time (all at once, as docs/scaling.md's plain
 * background processes do), then 2 at a time (one per core here); each is followed by its own merge.
 * `--plain` adds a plain `build --factory` (training included) for reference. Shard processes run
 * with `--threads 1` (FAISS/OpenMP) so N of them share the cores instead of oversubscribing them.
 *
 * The box's peak is reported twice: the sum of the peaks of the processes that can run at once
 * (the p largest, an upper bound) and the sum of their current RSS sampled every 100 ms (a lower
 * bound). `--memory-budget` is passed to the commands that take it (`build`), and the bench exits 1
 * if a phase's sum of concurrent peaks exceeds it.
 *
 * The chunks file (bench/ingest.ts's generator, `--data lowrank` by default; `--row-groups` many
 * row groups so the g mod N split is even) is cached in --data-dir (default $BENCH_DIR, else
 * /tmp/indexctl-bench) under a name that holds its parameters, and reused; its generation is timed
 * separately when it happens. The trained file, shards and version roots go to a work directory
 * inside it, removed at the end unless --keep.
 * `--tiny` overrides the sizes (12,000 rows, 8 row groups, IVF16): seconds, for
 * test/bench-smoke.test.ts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { parseSize } from '../src/core/util/units.js';
import { type BenchData, chunksFile, chunksPath, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '384' },
    'row-groups': { type: 'string', default: '40' },
    factory: { type: 'string', default: 'IVF1024,Flat' },
    shards: { type: 'string', default: '4' },
    parallel: { type: 'string', default: '4,2' },
    'shard-threads': { type: 'string', default: '1' },
    'train-sample': { type: 'string' },
    plain: { type: 'boolean', default: false },
    'memory-budget': { type: 'string', default: '16G' },
    data: { type: 'string', default: 'lowrank' },
    'data-dir': {
      type: 'string',
      default: process.env.BENCH_DIR ?? path.join(os.tmpdir(), 'indexctl-bench'),
    },
    keep: { type: 'boolean', default: false },
    tiny: { type: 'boolean', default: false },
  },
});

function positive(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0)
    throw new Error(`--${name} must be a positive integer, not ${text}`);
  return n;
}

const tiny = values.tiny!;
const rows = tiny ? 12_000 : positive('rows', values.rows!);
const dim = positive('dim', values.dim!);
const rowGroups = tiny ? 8 : positive('row-groups', values['row-groups']!);
// At tiny size the coarse quantizer shrinks so that 12,000 rows can train it; the codes stay.
const factory = tiny ? values.factory!.replace(/IVF\d+/, 'IVF16') : values.factory!;
const shards = positive('shards', values.shards!);
const parallel = values.parallel!.split(',').map((p) => Math.min(shards, positive('parallel', p)));
const shardThreads = positive('shard-threads', values['shard-threads']!);
const trainSample = values['train-sample'] !== undefined && !tiny ? values['train-sample'] : undefined;
const budgetText = values['memory-budget']!;
const budgetMB = parseSize(budgetText) / 2 ** 20;
const data = values.data as BenchData;
if (data !== 'lowrank' && data !== 'uniform') throw new Error('--data must be lowrank or uniform');
const dataDir = path.resolve(values['data-dir']!);

const here = path.dirname(new URL(import.meta.url).pathname);
const bin = path.resolve(here, '../../bin/indexctl.js');
const preload = path.join(here, 'rss-preload.js');

interface Proc {
  name: string;
  seconds: number;
  peakMB: number;
  cpuSeconds: number;
}

interface Phase {
  run: string;
  phase: string;
  procs: Proc[];
  concurrency: number;
  seconds: number;
  /** The sum of the `concurrency` largest peaks: what the box needs if they peak together. */
  concurrentPeakMB: number;
  /** The largest sum of the running processes' RSS seen by the 100 ms sampler. */
  sampledPeakMB: number;
  load: [number, number];
}

const running = new Set<number>();

function rssMB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0; // exited between the listing and the read
  }
}

/** One CLI process: `node --import rss-preload bin/indexctl.js ARGS`, its stderr kept for errors. */
function cli(name: string, args: string[], work: string): Promise<Proc> {
  const rssFile = path.join(work, `${name.replace(/\W/g, '_')}.rss`);
  rmSync(rssFile, { force: true });
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', preload, bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, INDEXCTL_BENCH_RSS_FILE: rssFile },
  });
  running.add(child.pid!);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      running.delete(child.pid!);
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`${name}: indexctl ${args.join(' ')} exited ${code ?? signal}:\n${stderr}`));
        return;
      }
      const [peak, cpu] = readFileSync(rssFile, 'utf8').trim().split(/\s+/).map(Number) as [number, number];
      resolve({ name, seconds, peakMB: peak, cpuSeconds: cpu });
    });
  });
}

/** Runs the jobs `concurrency` at a time, sampling the running processes' summed RSS. */
async function phase(
  run: string,
  name: string,
  jobs: { name: string; args: string[] }[],
  concurrency: number,
  work: string,
): Promise<Phase> {
  const load0 = os.loadavg()[0]!;
  let sampledPeakMB = 0;
  const sampler = setInterval(() => {
    let sum = 0;
    for (const pid of running) sum += rssMB(pid);
    sampledPeakMB = Math.max(sampledPeakMB, sum);
  }, 100);
  const started = performance.now();
  const procs: Proc[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++]!;
      procs.push(await cli(job.name, job.args, work));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  } finally {
    clearInterval(sampler);
  }
  const seconds = (performance.now() - started) / 1000;
  procs.sort((a, b) => a.name.localeCompare(b.name));
  // On stderr as it happens: a long run that dies later still leaves its finished phases.
  console.error(`${run} / ${name}: ${seconds.toFixed(1)} s, ${JSON.stringify(procs)}`);
  const peaks = procs.map((p) => p.peakMB).sort((a, b) => b - a);
  const concurrentPeakMB = peaks.slice(0, concurrency).reduce((s, p) => s + p, 0);
  return {
    run,
    phase: name,
    procs,
    concurrency,
    seconds,
    concurrentPeakMB,
    sampledPeakMB,
    load: [load0, os.loadavg()[0]!],
  };
}

/** The vector count a sealed version's manifest records. */
function versionVectors(root: string, version: string): number {
  const manifest = JSON.parse(
    readFileSync(path.join(root, 'versions', version, 'manifest.json'), 'utf8'),
  ) as {
    vectors_count?: number;
  };
  const n = manifest.vectors_count;
  if (typeof n !== 'number') throw new Error(`${root}/versions/${version}/manifest.json: no vector count`);
  return n;
}

function checkVectors(root: string, version: string): void {
  const n = versionVectors(root, version);
  if (n !== rows) throw new Error(`${version} holds ${n} vectors, not the input's ${rows}`);
}

async function main(): Promise<void> {
  mkdirSync(dataDir, { recursive: true });
  const shape = { dim, rowGroups };
  const cached = existsSync(chunksPath(dataDir, rows, data, shape));
  const genStarted = performance.now();
  const chunks = chunksFile(dataDir, rows, data, shape);
  const genSeconds = (performance.now() - genStarted) / 1000;
  const label = `${rows} x ${dim} ${factory}`;
  console.log(
    `data: ${chunks} (${data}, ${rowGroups} row groups requested), ` +
      (cached ? 'cached' : `generated in ${genSeconds.toFixed(1)} s`),
  );
  console.log(
    `cores ${os.cpus().length}, RAM ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );

  const work = path.join(dataDir, `shards-work-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const trained = path.join(work, 'trained.faiss');
  const q = ['--quiet'];
  const budget = ['--memory-budget', budgetText];
  const sample = trainSample !== undefined ? ['--train-sample', trainSample] : [];
  const phases: Phase[] = [];
  const totals: { path: string; phases: Phase[] }[] = [];
  const warm = () => warmPageCache(chunks);

  try {
    warm();
    const trainPhase = await phase(
      'single',
      'train',
      [
        {
          name: 'train',
          args: [...q, 'train', '--chunks', chunks, '--factory', factory, '--out', trained, ...sample],
        },
      ],
      1,
      work,
    );
    phases.push(trainPhase);

    warm();
    const singleRoot = path.join(work, 'root-single');
    const single = await phase(
      'single',
      'build --trained',
      [
        {
          name: 'single',
          args: [
            ...q,
            '--root',
            singleRoot,
            'build',
            '--chunks',
            chunks,
            '--trained',
            trained,
            '--version',
            'single',
            ...budget,
          ],
        },
      ],
      1,
      work,
    );
    checkVectors(singleRoot, 'single');
    rmSync(singleRoot, { recursive: true, force: true });
    phases.push(single);
    totals.push({ path: 'train + build --trained (single)', phases: [trainPhase, single] });

    if (values.plain) {
      warm();
      const plainRoot = path.join(work, 'root-plain');
      const plain = await phase(
        'plain',
        'build --factory',
        [
          {
            name: 'plain',
            args: [
              ...q,
              '--root',
              plainRoot,
              'build',
              '--chunks',
              chunks,
              '--factory',
              factory,
              '--version',
              'plain',
              ...budget,
              ...sample,
            ],
          },
        ],
        1,
        work,
      );
      checkVectors(plainRoot, 'plain');
      rmSync(plainRoot, { recursive: true, force: true });
      phases.push(plain);
      totals.push({ path: 'build --factory (plain, trains itself)', phases: [plain] });
    }

    for (const p of parallel) {
      const run = `${shards} shards, ${p} at a time`;
      const dirs = Array.from({ length: shards }, (_, i) => path.join(work, `p${p}`, `shard-${i}`));
      warm();
      const shardPhase = await phase(
        run,
        'build --shard',
        dirs.map((dir, i) => ({
          name: `p${p}-shard-${i}`,
          args: [
            ...q,
            '--threads',
            String(shardThreads),
            'build',
            '--chunks',
            chunks,
            '--trained',
            trained,
            '--shard',
            `${i}/${shards}`,
            '--out',
            dir,
          ],
        })),
        p,
        work,
      );
      const root = path.join(work, `root-p${p}`);
      const mergePhase = await phase(
        run,
        'merge',
        [{ name: `p${p}-merge`, args: [...q, '--root', root, 'merge', ...dirs, '--version', 'merged'] }],
        1,
        work,
      );
      checkVectors(root, 'merged');
      rmSync(root, { recursive: true, force: true });
      rmSync(path.join(work, `p${p}`), { recursive: true, force: true });
      phases.push(shardPhase, mergePhase);
      totals.push({ path: `train + ${run} + merge`, phases: [trainPhase, shardPhase, mergePhase] });
    }
  } finally {
    if (!values.keep) rmSync(work, { recursive: true, force: true });
  }

  const f1 = (n: number) => n.toFixed(1);
  const f0 = (n: number) => n.toFixed(0);
  console.log(`\n${label}, ${rows} vectors in every version\n`);
  console.log(
    '| run | phase | processes | wall s | cpu s | peak RSS MB per process | sum of concurrent peaks MB | sampled sum MB | load 1m before / after |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const ph of phases) {
    const per = ph.procs.map((p) => f0(p.peakMB));
    console.log(
      `| ${ph.run} | ${ph.phase} | ${ph.procs.length} (${ph.concurrency} at a time) | ${f1(ph.seconds)} | ` +
        `${f1(ph.procs.reduce((s, p) => s + p.cpuSeconds, 0))} | ${per.join(', ')} | ${f0(ph.concurrentPeakMB)} | ` +
        `${f0(ph.sampledPeakMB)} | ${ph.load.map((l) => l.toFixed(2)).join(' / ')} |`,
    );
  }
  const reference = totals[0]!;
  const wall = (t: (typeof totals)[number]) => t.phases.reduce((s, ph) => s + ph.seconds, 0);
  const boxPeak = (t: (typeof totals)[number]) => Math.max(...t.phases.map((ph) => ph.concurrentPeakMB));
  console.log('\n| path | wall s | x single | box peak MB (largest sum of concurrent peaks) |');
  console.log('|---|---|---|---|');
  for (const t of totals) {
    console.log(
      `| ${t.path} | ${f1(wall(t))} | ${(wall(t) / wall(reference)).toFixed(2)} | ${f0(boxPeak(t))} |`,
    );
  }
  const worst = Math.max(...phases.map((ph) => ph.concurrentPeakMB));
  const within = worst <= budgetMB;
  console.log(
    `\nmemory budget ${budgetText} (${f0(budgetMB)} MB): largest sum of concurrent peaks ${f0(worst)} MB, ` +
      (within ? 'within it' : 'OVER IT'),
  );
  console.error(JSON.stringify({ label, chunks, genSeconds: cached ? null : genSeconds, phases }));
  if (!within) process.exitCode = 1;
}

await main();
