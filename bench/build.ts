/**
 * `build` benchmark: indexctl building a version from a chunks Parquet file (ingest + index + idmap
 * + catalog + checksums + fsyncs) against a Python FAISS script building the same index from the
 * same vectors already in memory, interleaved, `--runs` times each (medians). Also: the same build
 * with `--link-chunks`, the Python build plus writing the files a version holds (the floor),
 * ingestion MB/s, indexctl's checksum speed against `xxhsum -H1` on the same version files, and the
 * median seconds of each build stage (docs/build.md#stages). Each side's CPU seconds (user + system,
 * every thread) stand beside its wall time: on 2 cores, work that overlaps still costs CPU.
 *
 *   node dist/bench/build.js [--rows 1000000] [--dim 384] [--hnsw-rows 100000] [--factories Flat,HNSW32] [--runs 3] [--data lowrank] [--tiny]
 * `--factories 'Flat;IVF1024,Flat'`: `;` separates factory strings that contain commas.
 * `--tiny` overrides the sizes (2000 rows, HNSW 500, one run): seconds, for test/bench-smoke.test.ts,
 * which checks that the bench and its Python peer still run.
 * The chunks files (low intrinsic dimension by default, `--data uniform` for independent floats; see
 * bench/ingest.ts) and the raw vectors the Python peer loads are made on first use (bench/data.ts).
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { orderedStages } from '../src/core/build/stages.js';
import { type BenchData, chunksFile, D, rawFiles, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    dim: { type: 'string', default: String(D) },
    'hnsw-rows': { type: 'string', default: '100000' },
    factories: { type: 'string', default: 'Flat,HNSW32' },
    runs: { type: 'string', default: '3' },
    data: { type: 'string', default: 'lowrank' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const flatRows = values.tiny ? 2000 : Number(values.rows);
const hnswRows = values.tiny ? 500 : Number(values['hnsw-rows']);
const dim = Number(values.dim);
const runs = values.tiny ? 1 : Number(values.runs);
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, '../..');
const python = process.env.INDEXCTL_PYTHON ?? '/usr/bin/python3';

type Json = Record<string, unknown>;

function json(res: ReturnType<typeof spawnSync>, what: string): Json {
  if (res.status !== 0) throw new Error(`${what} failed: ${String(res.stderr)}`);
  return JSON.parse(String(res.stdout).trim().split('\n').pop()!) as Json;
}

function xxhsumSeconds(files: string[]): number {
  const t = performance.now();
  const res = spawnSync('xxhsum', ['-H1', ...files], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`xxhsum failed: ${res.stderr}`);
  return (performance.now() - t) / 1000;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One indexctl build in its own process (bench/build-child.ts), the root removed afterwards unless kept. */
function ours(chunks: string, factory: string, root: string, extra: string[]): Json {
  rmSync(root, { recursive: true, force: true });
  warmPageCache(chunks);
  return json(
    spawnSync(
      process.execPath,
      [path.join(here, 'build-child.js'), chunks, factory, root, 'bench', ...extra],
      {
        encoding: 'utf8',
      },
    ),
    'indexctl build',
  );
}

const f = (x: number, digits = 2) => x.toFixed(digits);
const stageColumns: { label: string; seconds: Record<string, number> }[] = [];
console.log(
  '| factory | vectors | indexctl build s | python build s | ratio | --link-chunks s (ratio) | python + same files s | read+add MB/s | write_index s (python) | indexctl RSS MB | python RSS MB | CPU s (python) | checksum GB/s (xxhsum) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
// `;` separates factories whose strings hold commas (`Flat;IVF1024,Flat`); else `,` does.
for (const factory of values.factories!.split(values.factories!.includes(';') ? ';' : ',')) {
  const rows = factory.startsWith('HNSW') ? hnswRows : flatRows;
  const chunks = chunksFile(values.dir!, rows, values.data as BenchData, dim === D ? {} : { dim });
  const raw = await rawFiles(chunks);
  const root = path.join(values.dir!, `build-root-${factory.replace(/\W/g, '_')}`);
  const peerIndex = path.join(values.dir!, 'peer.index');
  const mine: Json[] = [];
  const linked: Json[] = [];
  const theirs: Json[] = [];
  let xs = 0;
  for (let run = 0; run < runs; run++) {
    linked.push(ours(chunks, factory, root, ['--link-chunks']));
    warmPageCache(raw.vectors);
    warmPageCache(chunks);
    theirs.push(
      json(
        spawnSync(
          python,
          [
            path.join(repo, 'bench/build_peer.py'),
            raw.vectors,
            raw.ids,
            String(dim),
            factory,
            peerIndex,
            chunks,
          ],
          { encoding: 'utf8' },
        ),
        'python build',
      ),
    );
    rmSync(peerIndex, { force: true });
    mine.push(ours(chunks, factory, root, []));
    const versionDir = path.join(root, 'versions/bench');
    const files = ['chunks.parquet', 'faiss.index', 'idmap.parquet', 'catalog.duckdb'].map((n) =>
      path.join(versionDir, n),
    );
    files.forEach(warmPageCache);
    xs = xxhsumSeconds(files);
    rmSync(root, { recursive: true, force: true });
  }
  const m = (list: Json[], key: string) => median(list.map((r) => r[key] as number));
  const phase = (list: Json[], key: string) =>
    median(list.map((r) => (r.phases as Record<string, number>)[key] ?? 0));
  const seconds = m(mine, 'seconds');
  const peer = m(theirs, 'seconds');
  const linkedSeconds = m(linked, 'seconds');
  const bytes = mine[0]!.checksumBytes as number;
  const stages = orderedStages(mine[0]!.phases as Record<string, number>).map(([k]) => k);
  stageColumns.push({
    label: `${factory} ${rows} x ${dim}`,
    seconds: Object.fromEntries(stages.map((st) => [st, phase(mine, st)])),
  });
  console.log(
    `| ${factory} | ${rows} x ${dim} | ${f(seconds)} | ${f(peer)} | ${f(seconds / peer)}x | ` +
      `${f(linkedSeconds)} (${f(linkedSeconds / peer)}x) | ${f(m(theirs, 'seconds_with_files'))} | ` +
      `${f((rows * dim * 4) / 1e6 / phase(mine, 'add'), 0)} | ` +
      `${f(phase(mine, 'write_index'))} (${f(m(theirs, 'write_index_s'))}) | ` +
      `${f(m(mine, 'maxrss_mb'), 0)} | ${f(m(theirs, 'maxrss_mb'), 0)} | ` +
      `${f(m(mine, 'cpu_s'))} (${f(m(theirs, 'cpu_s'))}) | ` +
      `${f(bytes / 1e9 / (phase(mine, 'checksum') || 1e-9))} (${f(bytes / 1e9 / xs)}) |`,
  );
  console.error(JSON.stringify({ factory, runs, ours: mine, linked, theirs, xxhsumSeconds: xs }));
}
console.log(
  `\nmedian seconds of each stage of indexctl's build (${runs} runs; docs/build.md#stages; stages overlap, so they add up to more than total):\n`,
);
console.log(`| stage | ${stageColumns.map((c) => c.label).join(' | ')} |`);
console.log(`|---|${stageColumns.map(() => '---|').join('')}`);
const union: Record<string, number> = Object.assign({}, ...stageColumns.map((c) => c.seconds));
for (const [stage] of orderedStages(union)) {
  const cells = stageColumns.map((c) => (c.seconds[stage] === undefined ? '-' : f(c.seconds[stage])));
  console.log(`| ${stage} | ${cells.join(' | ')} |`);
}
