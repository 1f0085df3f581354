/**
 * Reads are bounded (issue 12 item 4). A resealed faiss.index whose header claims more than the file
 * holds is refused before FAISS reads it: by verify's index.header (before, the probe grew ~100 MB/s
 * without end), by publish, and by search / openIndex (before: SIGSEGV in process). The probe has a
 * memory bound enforced from the parent. Chunks, query and pool "files" that are FIFOs, devices or
 * directories are refused (5) before any open (before: a FIFO hung in open, /dev/full was read until
 * the OOM killer came).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { IndexCorruptionError } from '../src/core/errors.js';
import { checkIndexFile } from '../src/core/faiss/file-header.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';
import { openIndex } from '../src/core/search/open-index.js';
import { appendPool } from '../src/core/search/pool.js';
import { readQueryVectors } from '../src/core/search/query-file.js';
import type { CheckResult, VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { cloneVersion, reseal } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';
import { currentTarget } from './helpers/versions.js';

const ROWS = 2000;
const DIM = 16;
const MAX_I64 = 2n ** 63n - 1n;
/** "IxM2" + d (int32): the IDMap2's ntotal, then its sub-index's header 33 bytes later. */
const IDMAP_NTOTAL = 8;
const SUB_NTOTAL = IDMAP_NTOTAL + 37;
/** A hang must fail the test, not stall the suite: far above any honest run. */
const HANG_MS = 60_000;

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: ROWS, dim: DIM });
const root = path.join(dir, 'root');
await build({ root, chunks, factory: 'Flat', version: 'flat' });
await build({ root, chunks, factory: 'HNSW16', version: 'hnsw' });

let copies = 0;
/** A resealed copy of `from` with the int64 at `offset` of its faiss.index set to `value`. */
async function damaged(offset: number, value: bigint, from = 'flat'): Promise<string> {
  const version = `${from}-bad-${++copies}`;
  const vdir = await cloneVersion(root, from, version);
  const file = path.join(vdir, 'faiss.index');
  const bytes = readFileSync(file);
  bytes.writeBigInt64LE(value, offset);
  writeFileSync(file, bytes);
  await reseal(vdir);
  return version;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
  return runCli(['--root', root, ...args], { timeoutMs: HANG_MS, env });
}

function verifyJson(...args: string[]): VerifyReport {
  const res = cli(['verify', ...args, '--json']);
  assert.notEqual(res.code, null, `verify did not finish within ${HANG_MS} ms`);
  const report = JSON.parse(res.stdout) as VerifyReport;
  assert.equal(res.code, report.exitCode);
  return report;
}

function check(report: VerifyReport, name: string): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `no ${name}`);
  return found;
}

describe('faiss.index counts checked against the file size before FAISS reads it', () => {
  it('sound indexes of every family walk to their last byte (nothing legit is refused)', async () => {
    const x = seededVectors(ROWS, DIM, 1);
    const ids = BigInt64Array.from({ length: ROWS }, (_, i) => BigInt(i * 7 + 1));
    // What build makes (wrapped in IndexIDMap2 in code) and what adopt takes from Python.
    const factories = [
      'Flat',
      'HNSW16',
      'IVF16,Flat',
      'IVF16,PQ4x4fs,RFlat',
      'IVF16,PQ4',
      'IVF16,SQ8',
      'PQ4',
      'SQ8',
      'HNSW16_SQ8',
      'OPQ4,IVF16,PQ4',
      'PCA8,IVF16,Flat',
      'L2norm,Flat',
    ];
    for (const factory of factories) {
      const index = FaissIndex.fromFactory(DIM, factory).wrapIdMap2();
      index.train(x);
      index.addWithIds(x, ids);
      const file = path.join(dir, `walk-${factory.replace(/\W/g, '_')}.index`);
      index.write(file);
      index.dispose();
      const shape = await checkIndexFile(file);
      assert.equal(shape.unknown, undefined, `${factory}: ${JSON.stringify(shape.unknown)}`);
      assert.equal(shape.ntotal, BigInt(ROWS), factory);
      assert.equal(shape.trailing, 0, `${factory}: ${shape.layout} walked to the end`);
    }
  });

  it('a type the walker does not know is reported, not refused', async () => {
    const index = FaissIndex.fromFactory(DIM, 'IDMap2,LSH');
    index.addWithIds(
      seededVectors(10, DIM, 2),
      BigInt64Array.from({ length: 10 }, (_, i) => BigInt(i)),
    );
    const file = path.join(dir, 'lsh.index');
    index.write(file);
    index.dispose();
    const shape = await checkIndexFile(file);
    assert.equal(shape.unknown?.fourcc, 'IxHe');
    assert.equal(shape.layout, 'IxM2(...)');
  });

  it('verify: IDMap2 ntotal 2^63-1 fails index.header (4) at once; FAISS never reads it', async () => {
    // Before: index.load's probe grew ~100 MB/s without end (no default bound), verify never finished.
    const version = await damaged(IDMAP_NTOTAL, MAX_I64);
    const report = verifyJson(version);
    assert.equal(report.exitCode, 4);
    const header = check(report, 'index.header');
    assert.equal(header.outcome, 'fail');
    assert.match(
      header.detail,
      /faiss\.index: index:IxM2\.ntotal claims 9223372036854775807 vectors of 8 bytes \(\d+ bytes\), but only \d+ of the file's \d+ bytes remain/,
    );
    assert.equal(check(report, 'index.load').outcome, 'skip');
    assert.match(check(report, 'index.load').detail, /did not pass index\.header: not read/);
  });

  it('verify: a plausible but too big ntotal (4000 of 2000 flat vectors) fails index.header (4)', async () => {
    const version = await damaged(SUB_NTOTAL, 4000n);
    const report = verifyJson(version);
    assert.equal(report.exitCode, 4);
    assert.match(
      check(report, 'index.header').detail,
      /index:IxF2\.ntotal claims 4000 vectors of 64 bytes \(256000 bytes\), but only \d+ of the file's \d+ bytes remain/,
    );
  });

  it('verify: an HNSW vector length of 2^36 (a 256 GiB allocation) fails index.header (4)', async () => {
    // levels is the third HNSW vector; its size field follows assign_probas and cum_nneighbor_per_level.
    const bytes = readFileSync(path.join(root, 'versions', 'hnsw', 'faiss.index'));
    let at = 2 * 37;
    for (const width of [8, 4]) at += 8 + Number(bytes.readBigUInt64LE(at)) * width;
    const version = await damaged(at, 2n ** 36n, 'hnsw');
    const report = verifyJson(version);
    assert.equal(report.exitCode, 4);
    assert.match(
      check(report, 'index.header').detail,
      /index:IHNf\.hnsw\.levels claims 68719476736 elements \(274877906944 bytes\) at offset \d+, but only \d+/,
    );
  });

  it('publish refuses a resealed index with a huge ntotal (4), CURRENT unchanged', async () => {
    const version = await damaged(IDMAP_NTOTAL, MAX_I64);
    const before = currentTarget(root);
    const res = cli(['publish', version, '--reason', 'bounds test']);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /index\.header/);
    assert.equal(currentTarget(root), before);
  });

  it('search and openIndex refuse it (4, IndexCorruptionError) instead of crashing in read_index', async () => {
    // Before: `search` died with SIGSEGV (exit 139) after ~14 s in read_index.
    const version = await damaged(IDMAP_NTOTAL, MAX_I64);
    const res = cli(['search', version, '--id', '7', '--k', '3']);
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /index:IxM2\.ntotal claims 9223372036854775807 vectors/);
    await assert.rejects(openIndex({ root, version }), (err: unknown) => {
      assert.ok(err instanceof IndexCorruptionError, String(err));
      assert.match(err.message, /faiss\.index: index\.header: index:IxM2\.ntotal claims 9223372036854775807/);
      return true;
    });
    const f2 = await damaged(SUB_NTOTAL, 4000n);
    assert.equal(cli(['search', f2, '--id', '7']).code, 4);
  });
});

describe('the probe memory bound', () => {
  it('a probe over --probe-memory is killed: index.load (or the request it was in) fails (4) naming the bound and how to raise it', async () => {
    // 10000 x 1024 floats: a 40 MB flat index; the probe holds it plus node (~45 MB) once loaded.
    const wide = path.join(dir, 'wide.parquet');
    await writeChunks(wide, { rows: 10_000, dim: 1024 });
    await build({ root, chunks: wide, factory: 'Flat', version: 'wide' });
    for (const [args, env, source] of [
      [['--probe-memory', '70M'], {}, '--probe-memory'],
      [[], { INDEXCTL_PROBE_MEMORY: '70M' }, 'INDEXCTL_PROBE_MEMORY'],
    ] as const) {
      const res = cli(['verify', 'wide', '--json', ...args], env);
      const report = JSON.parse(res.stdout) as VerifyReport;
      assert.equal(res.code, 4, res.stderr);
      const killed = report.checks.find((c) => c.outcome === 'fail');
      assert.match(
        killed?.detail ?? '',
        new RegExp(
          `over its memory bound of 70\\.0 MiB \\(${source}\\); the probe was killed ` +
            '\\(raise the bound with --probe-memory or INDEXCTL_PROBE_MEMORY\\)',
        ),
      );
    }
    assert.equal(verifyJson('wide').exitCode, 0, 'the default bound (1 GiB + 8x the file) lets it load');
    assert.equal(cli(['verify', 'wide', '--probe-memory', 'lots']).code, 2);
  });
});

describe('non-regular files are refused (5) before any open', () => {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);

  it('a FIFO as --chunks, --vector-file or tune --queries: exit 5 naming it (before: hung in open)', () => {
    for (const args of [
      ['build', '--chunks', fifo, '--factory', 'Flat'],
      ['search', 'flat', '--vector-file', fifo],
      ['tune', 'flat', '--queries', fifo, '--target-recall', '0.9'],
    ]) {
      const res = cli(args);
      assert.equal(res.code, 5, `${args[0]}: ${res.stderr}`);
      assert.match(
        res.stderr,
        new RegExp(`${fifo}: (chunks|query) file is a FIFO \\(named pipe\\), not a regular file`),
      );
    }
  });

  it('--pool-out /dev/full and a directory as --vector-file: exit 5 (before: /dev/full read until OOM)', async () => {
    const res = cli(['search', 'flat', '--id', '7', '--pool-out', '/dev/full']);
    assert.equal(res.code, 5, res.stderr);
    assert.match(res.stderr, /\/dev\/full: is a character device, not a pool directory/);
    const d = cli(['search', 'flat', '--vector-file', dir]);
    assert.equal(d.code, 5);
    assert.match(d.stderr, /query file is a directory, not a regular file/);
    // The library entry points refuse them too.
    await assert.rejects(
      appendPool('/dev/full', []),
      /\/dev\/full: is a character device, not a pool directory/,
    );
    await assert.rejects(readQueryVectors(fifo, { dim: DIM }), /query file is a FIFO/);
  });
});
