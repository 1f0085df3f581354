/**
 * argv -> typed options, in process, for every command: the table in src/cli-options.ts drives
 * commander's parsers, defaults, choices, conflicts and aliases, and each command receives typed
 * values. No command runs here (parseArgv loads no command module, FAISS or DuckDB).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';

import { parseArgv, type CliIo, type ParsedCommand, type ParseStop } from '../src/cli.js';
import { commands } from '../src/cli-options.js';
import { memoryStream } from '../src/reporters/terminal.js';

function capture(): CliIo & { readonly out: string; readonly err: string } {
  const stdout = memoryStream();
  const stderr = memoryStream();
  return {
    stdout,
    stderr,
    get out() {
      return stdout.text;
    },
    get err() {
      return stderr.text;
    },
  };
}

async function parse(argv: string[]): Promise<ParsedCommand> {
  const io = capture();
  const result = await parseArgv(argv, io);
  assert.ok('spec' in result, `${argv.join(' ')} did not parse: ${io.err}`);
  return result;
}

async function refuse(argv: string[]): Promise<{ stop: ParseStop; err: string }> {
  const io = capture();
  const result = await parseArgv(argv, io);
  assert.ok(!('spec' in result), `${argv.join(' ')} parsed but should have been refused`);
  return { stop: result, err: io.err };
}

/** One typical command line per command and the typed options it must give. */
const cases: Record<string, { argv: string[]; args?: string[]; options: Record<string, unknown> }> = {
  doctor: { argv: ['doctor'], options: {} },
  build: {
    argv: [
      'build',
      '--chunks',
      'c.parquet',
      '--factory',
      'HNSW32',
      '--metric',
      'cosine',
      '--train-sample',
      '5000',
    ],
    options: {
      chunks: 'c.parquet',
      factory: 'HNSW32',
      metric: 'cosine',
      version: undefined,
      trainSample: 5000,
      memoryBudget: undefined,
      materialize: false,
      dryRun: false,
      publish: false,
      linkChunks: false,
      idColumn: 'id',
      embeddingColumn: 'embedding',
      uriColumn: 'uri',
      langColumn: 'lang',
      startLineColumn: 'start_line',
      endLineColumn: 'end_line',
      dim: undefined,
      wait: undefined,
      metricsFile: undefined,
      seed: 0,
      trained: undefined,
      base: undefined,
      driftThreshold: undefined,
      retrainOnDrift: false,
      shard: undefined,
      out: undefined,
    },
  },
  train: {
    argv: [
      'train',
      '--chunks',
      'c.parquet',
      '--factory',
      'IVF64,Flat',
      '--out',
      't.faiss',
      '--train-sample',
      '2000',
    ],
    options: {
      chunks: 'c.parquet',
      factory: 'IVF64,Flat',
      metric: 'l2',
      trainSample: 2000,
      seed: 0,
      out: 't.faiss',
      idColumn: 'id',
      embeddingColumn: 'embedding',
      dim: undefined,
    },
  },
  merge: {
    argv: ['merge', 's/0', 's/1', 's/2', '--version', 'v1'],
    args: ['s/0', 's/1', 's/2'],
    options: { version: 'v1', chunks: undefined, materialize: false, linkChunks: false, wait: undefined },
  },
  'export-idmap': {
    argv: ['export-idmap', 'v1', '--out', '/tmp/i.parquet', '--wait', '30'],
    args: ['v1'],
    options: { out: '/tmp/i.parquet', wait: 30 },
  },
  'write-manifest': {
    argv: ['write-manifest', 'py1', '--factory', 'HNSW32', '--metric', 'ip', '--attr', 'a=1', 'b=x=y'],
    args: ['py1'],
    options: { factory: 'HNSW32', metric: 'ip', attr: { a: '1', b: 'x=y' }, wait: undefined },
  },
  verify: {
    argv: ['verify', 'v1', '--level', '3', '--probe-timeout', '0.5', '--metrics-file', 'v.prom'],
    args: ['v1'],
    options: {
      current: false,
      level: 3,
      smoke: 200,
      seed: 0,
      probeTimeout: 0.5,
      probeMemory: undefined,
      metricsFile: 'v.prom',
    },
  },
  publish: {
    argv: ['publish', 'v2', '--expect-current', 'none', '--reason', 'nightly', '--dry-run'],
    args: ['v2'],
    options: {
      expectCurrent: 'none',
      reason: 'nightly',
      dryRun: true,
      wait: undefined,
      metricsFile: undefined,
    },
  },
  rollback: {
    argv: ['rollback', '--to', 'v1', '--wait', '0'],
    options: { to: 'v1', reason: undefined, dryRun: false, wait: 0, metricsFile: undefined },
  },
  status: { argv: ['status'], options: {} },
  diff: { argv: ['diff', 'a', 'b'], args: ['a', 'b'], options: { limit: 10 } },
  pin: { argv: ['pin', 'v1'], args: ['v1'], options: { wait: undefined } },
  unpin: { argv: ['unpin', 'v1', '--wait', '5'], args: ['v1'], options: { wait: 5 } },
  gc: {
    argv: ['gc', '--keep', '0', '--older-than', '2d', '--yes'],
    options: {
      keep: 0,
      olderThan: 2 * 86_400_000,
      yes: true,
      dryRun: false,
      wait: undefined,
      metricsFile: undefined,
    },
  },
  tune: {
    argv: ['tune', 'v1', '--target-recall', '0.9', '--sample', '500', '--max-seconds', '1.5', '--write'],
    args: ['v1'],
    options: {
      k: 10,
      targetRecall: 0.9,
      queries: undefined,
      sample: 500,
      seed: 0,
      params: undefined,
      runs: 3,
      maxSeconds: 1.5,
      plot: undefined,
      write: true,
      embeddingColumn: 'embedding',
      wait: undefined,
      metricsFile: undefined,
    },
  },
  search: {
    argv: ['search', '--id', '9223372036854775807', '--k', '3', '--verify-checksum'],
    options: {
      current: false,
      id: 9223372036854775807n,
      vectorFile: undefined,
      text: undefined,
      k: 3,
      poolOut: undefined,
      embeddingColumn: 'embedding',
      verifyChecksum: true,
    },
  },
  chunks: {
    argv: ['chunks', 'v1', '--uri', 'src/*', '--lang', 'typescript', '--limit', '5'],
    args: ['v1'],
    options: { current: false, uri: 'src/*', lang: 'typescript', limit: 5 },
  },
  sample: {
    argv: ['sample', '--from', 'src', '--out', 'c.parquet', '--dim', '64'],
    options: { from: 'src', out: 'c.parquet', dim: 64 },
  },
  serve: {
    argv: ['serve', '--http', '[::1]:0', '--verify-checksum'],
    options: { http: { host: '::1', port: 0 }, pollInterval: 1000, verifyChecksum: true },
  },
};

describe('argv -> typed options (in process)', () => {
  it('has a case for every command in the table', () => {
    assert.deepEqual(commands.map((c) => c.name).sort(), Object.keys(cases).sort());
  });

  for (const [name, c] of Object.entries(cases)) {
    it(`${name}: typed values, defaults applied`, async () => {
      const parsed = await parse(c.argv);
      assert.equal(parsed.spec.name, name);
      assert.deepEqual(parsed.args, c.args ?? []);
      assert.deepEqual(parsed.options, c.options);
    });
  }

  it('global options work before and after the command, typed; --root is resolved', async () => {
    const before = await parse(['--root', 'rel/idx', '--threads', '2', '--json', 'status']);
    assert.deepEqual(before.globals, {
      root: path.resolve('rel/idx'),
      json: true,
      quiet: false,
      verbose: false,
      threads: 2,
      duckdb: {},
      probeEnv: {},
    });
    const after = await parse(['status', '--quiet', '--root', '/srv/index']);
    assert.equal(after.globals.root, '/srv/index');
    assert.equal(after.globals.quiet, true);
    assert.equal(after.globals.threads, undefined);
  });

  it('INDEXCTL_PROBE_TIMEOUT / INDEXCTL_PROBE_MEMORY are read at the edge, raw, for verify to parse', async () => {
    const saved = { t: process.env.INDEXCTL_PROBE_TIMEOUT, m: process.env.INDEXCTL_PROBE_MEMORY };
    process.env.INDEXCTL_PROBE_TIMEOUT = '7';
    process.env.INDEXCTL_PROBE_MEMORY = '2G';
    try {
      const parsed = await parse(['verify', 'v1']);
      assert.deepEqual(parsed.globals.probeEnv, { timeout: '7', memory: '2G' });
    } finally {
      for (const [k, v] of [
        ['INDEXCTL_PROBE_TIMEOUT', saved.t],
        ['INDEXCTL_PROBE_MEMORY', saved.m],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('list is an alias of status, not a copy', async () => {
    const parsed = await parse(['list']);
    assert.equal(parsed.spec.name, 'status');
  });

  const bad: [string[], RegExp][] = [
    [
      ['build', '--chunks', 'c', '--metric', 'cos'],
      /'--metric <metric>' argument 'cos' is invalid\. must be one of l2, ip, cosine/,
    ],
    [
      ['build', '--chunks', 'c', '--train-sample', '0'],
      /'--train-sample <n>' argument '0' is invalid\. must be an integer >= 1/,
    ],
    [
      ['build', '--chunks', 'c', '--memory-budget', 'lots'],
      /'--memory-budget <size>' argument 'lots' is invalid/,
    ],
    [['build'], /required option '--chunks <path>' not specified/],
    [['train', '--chunks', 'c', '--factory', 'Flat'], /required option '--out <file>' not specified/],
    [['merge', '--version', 'v'], /missing required argument 'shard-dir'/],
    [['verify', '--level', '4'], /'--level <n>' argument '4' is invalid\. must be one of 1, 2, 3/],
    [['verify', '--probe-timeout', '-1'], /'--probe-timeout <seconds>' argument '-1' is invalid/],
    [['gc', '--older-than', '7 days'], /'--older-than <duration>' argument '7 days' is invalid/],
    [
      ['tune', 'v', '--target-recall', '1.5'],
      /'--target-recall <r>' argument '1.5' is invalid\. must be a number in \(0, 1\]/,
    ],
    [['search', '--id', '-3'], /'--id <id>' argument '-3' is invalid|unknown option '-3'/],
    [['search', '--id', '9223372036854775808'], /must be a chunk id/],
    [['search', '--k', 'ten'], /'--k <n>' argument 'ten' is invalid/],
    [['chunks', '--limit', '0'], /'--limit <n>' argument '0' is invalid/],
    [['write-manifest', 'v', '--attr', 'novalue'], /--attr expects key=value/],
    [['sample', '--from', 'src'], /required option '--out <file>' not specified/],
    [['serve', '--http', '8080'], /'--http <host:port>' argument '8080' is invalid\. must be HOST:PORT/],
    [['serve', '--http', '127.0.0.1:65536'], /'--http <host:port>' argument '127\.0\.0\.1:65536' is invalid/],
    [['serve', '--poll-interval', '0'], /'--poll-interval <ms>' argument '0' is invalid/],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(' ')} with exit 2 and the flag named`, async () => {
      const { stop, err } = await refuse(argv);
      assert.equal(stop.exitCode, 2);
      assert.match(err, message);
    });
  }

  it('refuses flags that conflict', async () => {
    const search = await refuse(['search', '--id', '1', '--vector-file', 'q.npy']);
    assert.match(search.err, /option '--id <id>' cannot be used with option '--vector-file <file>'/);
    const text = await refuse(['search', '--text', 'x', '--vector-file', 'q.npy']);
    assert.match(text.err, /option '--vector-file <file>' cannot be used with option '--text <words>'/);
    const tune = await refuse(['tune', 'v', '--queries', 'q.npy', '--sample', '10']);
    assert.match(tune.err, /'--queries <file>' cannot be used with option '--sample <n>'/);
    const build = await refuse(['build', '--chunks', 'c', '--dry-run', '--publish']);
    assert.match(build.err, /'--publish' cannot be used with option '--dry-run'/);
    const shard = await refuse(['build', '--chunks', 'c', '--shard', '0/2', '--version', 'v']);
    assert.match(shard.err, /'--shard <I\/N>' cannot be used with option '--version <name>'/);
  });

  it('a mistyped command gets one line, a suggestion and where to look, not the whole help', async () => {
    const { stop, err } = await refuse(['verfy', 'v1']);
    assert.equal(stop.exitCode, 2);
    assert.match(err, /unknown command 'verfy'/);
    assert.match(err, /Did you mean verify\?/);
    assert.match(err, /run 'indexctl --help'/);
    assert.doesNotMatch(err, /Commands:/);
    const flag = await refuse(['verify', '--levl', '3']);
    assert.match(flag.err, /unknown option '--levl'/);
    assert.match(flag.err, /Did you mean --level\?/);
    assert.match(flag.err, /run 'indexctl verify --help'/);
    assert.ok(flag.err.trim().split('\n').length <= 3, flag.err);
  });

  it('verify without --level runs level 3, the smoke included; --level 1 and 2 stay', async () => {
    assert.equal((await parse(['verify', 'v1'])).options.level, 3);
    assert.equal((await parse(['verify', 'v1', '--level', '2'])).options.level, 2);
    assert.equal((await parse(['verify', 'v1', '--level', '1'])).options.level, 1);
  });

  it('--help and --version stop with exit 0 and print to stdout', async () => {
    const io = capture();
    const stop = await parseArgv(['verify', '--help'], io);
    assert.ok(!('spec' in stop));
    assert.equal(stop.exitCode, 0);
    assert.match(io.out, /--level <n>.*\(choices: "1", "2", "3", default: 3\)/s);
  });
});
