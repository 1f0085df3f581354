/**
 * Every benchmark command docs/PERFORMANCE.md gives runs as written, at tiny size: the command line
 * is taken from the page, `--tiny` is appended (each bench then overrides its sizes, so the run takes
 * seconds), and the test checks exit 0 and that the peer's figures (Python FAISS, xxhsum,
 * parquet-wasm, LanceDB) are in the output. It times nothing: it catches a bench or a peer that no longer
 * runs, as when bench/faiss_ops.py lost its `import resource` and the Python peer died with a
 * NameError.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';
import { tmpDir } from './helpers/tmp.js';

const doc = readFileSync(path.join(packageRoot, 'docs/PERFORMANCE.md'), 'utf8');
const commands = [...new Set([...doc.matchAll(/`node (dist\/bench\/[^`]+)`/g)].map((m) => m[1]!))];
const benchDir = tmpDir('indexctl-bench-smoke-');

/**
 * The generic-libfaiss addon is built by hand (bench/build-generic-addon.sh, a few minutes of C++);
 * without it the commands that compare against it run this checkout's addon in its place, which
 * exercises the same code path.
 */
const defaultGeneric = path.join(os.homedir(), '.cache/indexctl/addon-generic/indexctl_faiss.node');
const ownAddon = path.join(packageRoot, 'build/Release/indexctl_faiss.node');
const needsGeneric = (argv: string[]) =>
  argv[0] === 'dist/bench/tune.js' || argv.some((a) => a.split(',').includes('generic'));

interface Table {
  header: string[];
  rows: string[][];
}

/** The Markdown tables in a bench's stdout. */
function tables(stdout: string): Table[] {
  const out: Table[] = [];
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split('|')
      .map((c) => c.trim());
  const lines = stdout.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i]!.startsWith('|') || !/^\|(-+\|)+$/.test(lines[i + 1]!.trim())) continue;
    const table: Table = { header: cells(lines[i]!), rows: [] };
    for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) table.rows.push(cells(lines[i]!));
    out.push(table);
  }
  return out;
}

/** The cells of `column` in the tables that have it. */
function column(stdout: string, name: string): string[] {
  return tables(stdout).flatMap((t) => {
    const at = t.header.indexOf(name);
    return at < 0 ? [] : t.rows.map((r) => r[at]!);
  });
}

/** The words of a command as a shell would pass them (single quotes around a word removed). */
function words(command: string): string[] {
  return command.split(/\s+/).map((w) => w.replace(/^'(.*)'$/, '$1'));
}

function run(command: string): string {
  const argv = words(command);
  if (needsGeneric(argv) && !existsSync(defaultGeneric)) argv.push('--generic-addon', ownAddon);
  argv.push('--tiny');
  const res = spawnSync(process.execPath, argv, {
    cwd: packageRoot,
    encoding: 'utf8',
    env: { ...process.env, BENCH_DIR: benchDir },
    maxBuffer: 1 << 26,
    timeout: 300_000,
  });
  const tail = (s: string) => s.split('\n').slice(-30).join('\n');
  assert.equal(res.status, 0, `node ${argv.join(' ')} exited ${res.status}:\n${tail(res.stderr)}`);
  return res.stdout;
}

const number = /^\d+(\.\d+)?$/;
const secondsAndCpu = /^\d+\.\d{3} \(\d+\.\d{2}\)$/;
/** A figure of ours with the peer's in parentheses, as build.js prints them: `0.41 (0.49)`. */
const oursAndPeer = /^[\d.]+ \([\d.]+\)$/;

/** What each bench's peer prints, checked on one run's stdout. */
const peerFigures: Record<string, (stdout: string, argv: string[]) => void> = {
  'dist/bench/faiss.js': (stdout, argv) => {
    const ops = argv.includes('--ops') ? argv[argv.indexOf('--ops') + 1]!.split(',') : undefined;
    const python = column(stdout, 'python s (cpu s)');
    assert.equal(python.length, ops?.length ?? 5, `one row per op:\n${stdout}`);
    for (const cell of python) assert.match(cell, secondsAndCpu);
    for (const cell of column(stdout, 'indexctl s (cpu s)')) assert.match(cell, secondsAndCpu);
  },
  'dist/bench/ingest.js': (stdout) => {
    assert.match(stdout, /^parquet-wasm +2000 x 384: [\d.]+ s, \d+ MB\/s of floats/m);
    assert.match(stdout, /^batches +2000 x 384: [\d.]+ s, \d+ MB\/s of floats/m);
  },
  'dist/bench/checksum.js': (stdout) => {
    const row = tables(stdout)[0]?.rows.find((r) => r[0] === 'xxhsum -H1 (C)');
    assert.ok(row, `an xxhsum row:\n${stdout}`);
    assert.match(row[2]!, number);
    assert.match(stdout, /^digest xxh64:[0-9a-f]{16}$/m, 'every contender agreed with xxhsum');
  },
  'dist/bench/verify-startup.js': (stdout) => {
    const rows = tables(stdout)[0]?.rows ?? [];
    for (const name of ['xxhsum -H1 (C)', 'indexctl verify --level 1']) {
      const row = rows.find((r) => r[0] === name);
      assert.ok(row, `a ${name} row:\n${stdout}`);
      assert.match(row[1]!, number);
    }
  },
  'dist/bench/shard-read.js': (stdout) => {
    const rows = tables(stdout)[0]?.rows ?? [];
    assert.equal(rows.length, 2, `the whole-file pass (the peer) and the shard's:\n${stdout}`);
    for (const row of rows) assert.match(row[2]!, number);
  },
  'dist/bench/build.js': (stdout, argv) => {
    const given = argv.includes('--factories') ? argv[argv.indexOf('--factories') + 1]! : 'Flat,HNSW32';
    const factories = given.split(given.includes(';') ? ';' : ',');
    assert.deepEqual(column(stdout, 'factory'), factories);
    for (const cell of column(stdout, 'python + same files s')) assert.match(cell, number);
    for (const cell of column(stdout, 'python build s')) assert.match(cell, number);
    for (const cell of column(stdout, 'write_index s (python)')) assert.match(cell, oursAndPeer);
    // Both sides' CPU seconds (a field missing from a child's JSON prints NaN).
    const cpu = column(stdout, 'CPU s (python)');
    assert.equal(cpu.length, factories.length);
    for (const cell of cpu) assert.match(cell, oursAndPeer);
  },
  'dist/bench/drift.js': (stdout) => {
    const ratios = column(stdout, 'drift ratio');
    assert.equal(ratios.length, 8, `one row per case:\n${stdout}`);
    for (const cell of ratios) assert.match(cell, number);
  },
  'dist/bench/incremental.js': (stdout) => {
    assert.deepEqual(column(stdout, 'build'), ['full', '--base']);
    for (const cell of column(stdout, 'wall s')) assert.match(cell, number);
    assert.match(
      stdout,
      /^incremental \/ full wall time: [\d.]+; removed \d+, added \d+, changed \d+, drift ratio [\d.]+$/m,
    );
  },
  'dist/bench/shards.js': (stdout, argv) => {
    // The peer of a sharded build is the single build from the same trained file.
    const paths = column(stdout, 'path');
    assert.equal(paths[0], 'train + build --trained (single)', `the single build first:\n${stdout}`);
    const flag = (name: string, fallback: string) =>
      argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback;
    for (const p of flag('--parallel', '4,2').split(',')) {
      const run = `train + ${flag('--shards', '4')} shards, ${p} at a time + merge`;
      assert.ok(paths.includes(run), `a row "${run}":\n${stdout}`);
    }
    for (const cell of column(stdout, 'wall s')) assert.match(cell, number);
    for (const cell of column(stdout, 'sum of concurrent peaks MB')) assert.match(cell, /^[1-9]\d*$/);
    assert.match(stdout, /^memory budget .*: largest sum of concurrent peaks \d+ MB, within it$/m);
  },
  'dist/bench/reader-checks.js': (stdout, argv) => {
    // No peer: the checks' cost against FAISS's own read_index, per factory.
    const factories = argv.includes('--factories')
      ? argv[argv.indexOf('--factories') + 1]!.split(';')
      : [1, 2, 3];
    const walk = column(stdout, 'walk');
    assert.equal(walk.length, factories.length, stdout);
    for (const cell of [...walk, ...column(stdout, 'read')]) assert.match(cell, /^[\d.]+ ms$/);
  },
  'dist/bench/lancedb.js': (stdout) => {
    // Both sides of every step; LanceDB has no publish step (a write commits its version).
    const rows = tables(stdout)[0]?.rows ?? [];
    assert.equal(rows.length, 13, `one row per measure:\n${stdout}`);
    for (const [step, measure, ours, lance] of rows) {
      assert.match(ours!, number, `indexctl: ${step} ${measure}`);
      if (measure === 'publish new version s') assert.equal(lance, '-');
      else assert.match(lance!, number, `LanceDB: ${step} ${measure}`);
    }
    const recall = [...column(stdout, 'recall@10 indexctl'), ...column(stdout, 'recall@10 LanceDB')];
    assert.equal(recall.length, 10, `five nprobes (--tiny), both sides:\n${stdout}`);
    for (const cell of recall) assert.match(cell, /^[01]\.\d{4}$/);
    for (const cell of [...column(stdout, 'p50 ms indexctl'), ...column(stdout, 'p99 ms LanceDB')])
      assert.match(cell, number);
  },
  'dist/bench/tune.js': (stdout) => {
    const recall = column(stdout, 'recall@10 indexctl / python');
    assert.equal(recall.length, 8, `four settings per index:\n${stdout}`);
    for (const cell of recall) assert.match(cell, / \/ [01]\.\d{4}$/);
    const bare = column(stdout, 'python index.search (bare)').filter((c) => c !== '-');
    assert.equal(bare.length, 2, 'the peer timed single queries on both indexes');
    for (const cell of bare) assert.match(cell, /^[\d.]+ \/ [\d.]+$/);
  },
};

describe('benchmarks: every command of docs/PERFORMANCE.md runs at tiny size, with its peer', () => {
  it('the page gives a command for every bench', () => {
    const benches = new Set(commands.map((c) => c.split(/\s+/)[0]!));
    assert.deepEqual([...benches].sort(), Object.keys(peerFigures).sort());
  });

  for (const command of commands) {
    it(`node ${command} --tiny`, () => {
      const argv = words(command);
      const stdout = run(command);
      peerFigures[argv[0]!]!(stdout, argv);
    });
  }
});
