/**
 * What the readers' safety checks cost (issue 20 item 1): every in-process read of a faiss.index runs
 * index.header (the serialization's counts against the file, JS) before read_index and
 * index.structure (the native walk of links, lists and codes) after it (src/core/version/read-index.ts).
 * For each version: the three steps timed in this process with the page cache warm and, where this
 * process may drop it (root), cold; then a whole `indexctl search V --vector-file q --k 10` (node
 * start-up, manifest, the checks, read, catalog open, search, hydration), warm.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/reader-checks.js [--rows 1000000] [--dim 128] [--factories Flat,IVF1024,Flat;HNSW32] [--runs 3] [--tiny]
 *
 * Versions are built once in $BENCH_DIR (default /tmp/indexctl-bench). `--tiny` uses 2000 rows and
 * one run and no cold runs, for test/bench-smoke.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { checkIndexFile } from '../src/core/faiss/file-header.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { packageRoot } from '../src/core/util/paths.js';
import { chunksFile, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: '128' },
    factories: { type: 'string', default: 'Flat;IVF1024,Flat;HNSW32' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const rows = values.tiny ? 2000 : Number(values.rows);
const dim = Number(values.dim);
const runs = values.tiny ? 1 : Number(values.runs);
const factories = values.factories.split(';').map((f) => (values.tiny ? f.replace(/IVF\d+/, 'IVF16') : f));
const root = path.join(values.dir, `readers-root-${rows}x${dim}`);
const bin = path.join(packageRoot, 'bin/indexctl.js');

function run(args: string[]): number {
  const start = performance.now();
  const res = spawnSync(process.execPath, [bin, '--root', root, ...args], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`indexctl ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return (performance.now() - start) / 1000;
}

/** Drops the page cache (root only); false where it may not. */
function dropCaches(): boolean {
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
    return true;
  } catch {
    return false;
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Steps {
  header: number;
  read: number;
  walk: number;
}

async function steps(file: string): Promise<Steps> {
  let t = performance.now();
  await checkIndexFile(file);
  const header = (performance.now() - t) / 1000;
  t = performance.now();
  const index = await FaissIndex.readAsync(file, { mmap: true, readOnly: true });
  const read = (performance.now() - t) / 1000;
  t = performance.now();
  const report = index.checkStructure();
  const walk = (performance.now() - t) / 1000;
  index.dispose();
  if (!report.ok) throw new Error(`${file}: ${report.firstProblem}`);
  return { header, read, walk };
}

function medianSteps(all: Steps[]): Steps {
  return {
    header: median(all.map((s) => s.header)),
    read: median(all.map((s) => s.read)),
    walk: median(all.map((s) => s.walk)),
  };
}

const chunks = chunksFile(values.dir, rows, 'uniform', { dim });
const queries = path.join(values.dir, `readers-q-${dim}.f32`);
if (!existsSync(queries)) {
  const q = new Float32Array(dim).map((_, j) => Math.sin(j + 1));
  writeFileSync(queries, Buffer.from(q.buffer));
}
const ms = (s: number) => `${(s * 1000).toFixed(1)} ms`;
// --tiny (the smoke test) leaves the machine's page cache alone.
const cold = !values.tiny && dropCaches();
console.log(
  `${rows} x ${dim}, ${runs} runs, medians; cold = page cache dropped: ${cold ? 'yes' : values.tiny ? 'no (--tiny)' : 'not permitted'}`,
);
console.log(
  '| factory | index MB | header | read | walk | walk / read | cold header + walk | cold read | search (CLI, warm) |',
);
console.log(`|${'---|'.repeat(9)}`);
for (const factory of factories) {
  const version = factory.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase();
  const dir = path.join(root, 'versions', version);
  if (!existsSync(dir)) run(['build', '--chunks', chunks, '--factory', factory, '--version', version]);
  const file = path.join(dir, 'faiss.index');
  const mb = statSync(file).size / 2 ** 20;
  const warm: Steps[] = [];
  const coldSteps: Steps[] = [];
  const search: number[] = [];
  for (let i = 0; i < runs; i++) {
    if (cold) {
      dropCaches();
      coldSteps.push(await steps(file));
    }
    warmPageCache(file);
    warm.push(await steps(file));
    search.push(run(['search', version, '--vector-file', queries, '--k', '10', '--json']));
  }
  const w = medianSteps(warm);
  const c = cold ? medianSteps(coldSteps) : undefined;
  console.log(
    [
      factory,
      mb.toFixed(0),
      ms(w.header),
      ms(w.read),
      ms(w.walk),
      `${((100 * w.walk) / w.read).toFixed(1)} %`,
      c ? ms(c.header + c.walk) : '-',
      c ? ms(c.read) : '-',
      `${median(search).toFixed(2)} s`,
    ]
      .join(' | ')
      .replace(/^/, '| ')
      .replace(/$/, ' |'),
  );
}
