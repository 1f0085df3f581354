/**
 * `verify --level 1` (manifest, then every file's XXH64) against `xxhsum -H1` over the same files:
 * level 1 is a checksum pass, so past a fixed start-up cost it should run as fast as the C tool.
 * Both are timed as whole processes, page cache warm, interleaved runs, medians. A third row runs
 * verify with DuckDB's addon preloaded (`node --import @duckdb/node-api`), the start-up level 1 paid
 * before it stopped loading the level-2/3 checks (issue 16 item 7). Where the time goes: `node -e 0`
 * (node's own start-up), `indexctl --version` (node and the CLI's module graph, no command), verify's
 * own `seconds` (from the manifest read to the report) and `xxhsum -H1` per large file.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/verify-startup.js [--rows 1000000] [--runs 5] [--tiny]
 *
 * The version is built once in $BENCH_DIR (default /tmp/indexctl-bench) with `--factory Flat` from
 * bench/ingest.ts's `rows` x 384 chunks: 1M rows make 3.1 GB of files. `--tiny` builds 2000 rows and
 * runs once: seconds, for test/bench-smoke.test.ts, which checks the bench and its peer still run.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { packageRoot } from '../src/core/util/paths.js';
import { chunksFile, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const rows = values.tiny ? 2000 : Number(values.rows);
const runs = values.tiny ? 1 : Number(values.runs);
const root = path.join(values.dir, `verify-root-${rows}`);
const version = `flat-${rows}`;
const bin = path.join(packageRoot, 'bin/indexctl.js');

function run(command: string, args: string[]): string {
  const res = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (res.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${res.status}: ${res.stderr}`);
  return res.stdout;
}

function ensureVersion(): string {
  const dir = path.join(root, 'versions', version);
  if (!existsSync(path.join(dir, 'manifest.json'))) {
    const chunks = chunksFile(values.dir, rows);
    run(process.execPath, [
      bin,
      '--root',
      root,
      '--quiet',
      'build',
      '--chunks',
      chunks,
      '--factory',
      'Flat',
      '--version',
      version,
    ]);
  }
  return dir;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const dir = ensureVersion();
  const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as {
    files: Record<string, { bytes: number; checksum: string }>;
  };
  const names = Object.keys(manifest.files);
  const files = names.map((n) => path.join(dir, n));
  const bytes = names.reduce((sum, n) => sum + manifest.files[n]!.bytes, 0);
  const verifyArgs = [bin, '--root', root, 'verify', version, '--level', '1', '--json'];
  const contenders: [string, () => string][] = [
    ['xxhsum -H1 (C)', () => run('xxhsum', ['-H1', ...files])],
    ['indexctl verify --level 1', () => run(process.execPath, verifyArgs)],
    [
      'indexctl verify --level 1, DuckDB preloaded (the cost before)',
      () => run(process.execPath, ['--import', '@duckdb/node-api', ...verifyArgs]),
    ],
    ['node -e 0 (start-up floor)', () => run(process.execPath, ['-e', '0'])],
    ['indexctl --version (node + the CLI module graph)', () => run(process.execPath, [bin, '--version'])],
  ];
  const inProcess: number[] = [];
  const perFile = new Map<string, number[]>();
  // Both agree on every file, or the timing means nothing.
  const sums = run('xxhsum', ['-H1', ...files])
    .trim()
    .split('\n');
  for (const [i, line] of sums.entries()) {
    const want = manifest.files[names[i]!]!.checksum;
    if (`xxh64:${line.split(/\s+/)[0]}` !== want)
      throw new Error(`xxhsum disagrees on ${names[i]}: ${line} vs ${want}`);
  }
  for (const f of files) warmPageCache(f);
  const times = contenders.map(() => [] as number[]);
  const large = files.filter((f, i) => manifest.files[names[i]!]!.bytes >= 64 << 20);
  // Interleaved so drift on a shared VM hits every contender alike.
  for (let r = 0; r < runs; r++) {
    for (const [i, [name, fn]] of contenders.entries()) {
      const t0 = process.hrtime.bigint();
      const out = fn();
      times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e9);
      if (name === 'indexctl verify --level 1')
        inProcess.push((JSON.parse(out) as { seconds: number }).seconds);
    }
    for (const f of large) {
      const t0 = process.hrtime.bigint();
      run('xxhsum', ['-H1', f]);
      perFile.set(f, [...(perFile.get(f) ?? []), Number(process.hrtime.bigint() - t0) / 1e9]);
    }
  }
  const base = median(times[0]!);
  console.log(
    `${rows} rows, Flat, ${names.length} files, ${(bytes / 1e9).toFixed(2)} GB; ${runs} runs, medians\n`,
  );
  console.log('| command | s | x xxhsum |');
  console.log('|---|---|---|');
  for (const [i, [name]] of contenders.entries()) {
    const s = median(times[i]!);
    console.log(`| ${name} | ${s.toFixed(3)} | ${(s / base).toFixed(2)} |`);
  }
  console.log(`| verify's own \`seconds\` (manifest read to report) | ${median(inProcess).toFixed(3)} | |`);
  for (const [f, ts] of perFile) {
    console.log(`| xxhsum -H1 ${path.basename(f)} alone | ${median(ts).toFixed(3)} | |`);
  }
}

main();
