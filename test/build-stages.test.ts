/**
 * Issue 21: what the faster build does differently must not change what it builds.
 * - The chunks reader reads a file as segments of row groups over two connections: the same rows,
 *   offsets and bad-row counts as one segment, also for shard ranges that cut across segments.
 * - chunk_meta built from the input beside the add (datasets: row numbers across files) is the
 *   table the old order builds after the add over the version's files (`--duckdb-memory` keeps it).
 * - `build --json` reports each stage, `build --verbose` prints them.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { BadInputError } from '../src/core/errors.js';
import { BUILD_STAGES } from '../src/core/build/stages.js';
import { openChunks, type BatchOptions } from '../src/core/parquet/chunks-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { duckdbRows } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-build-stages-');
const DIM = 8;

async function pass(
  file: string,
  options: BatchOptions,
): Promise<{ offsets: number[]; ids: bigint[]; sum: number }> {
  const reader = await openChunks(file);
  try {
    const offsets: number[] = [];
    const ids: bigint[] = [];
    let sum = 0;
    for await (const batch of reader.batches(options)) {
      offsets.push(batch.rowOffset);
      ids.push(...batch.ids);
      for (const v of batch.vectors) sum += v;
    }
    return { offsets, ids, sum };
  } finally {
    reader.close();
  }
}

describe('chunks reader: segments over two connections', () => {
  it('gives the rows of one segment, in order, whatever the segment size', async () => {
    const file = path.join(dir, 'seg.parquet');
    await writeChunks(file, { rows: 5000, dim: DIM, rowGroupSize: 256 });
    const one = await pass(file, { batchRows: 700, segmentRows: 1 << 30 });
    assert.equal(one.ids.length, 5000);
    for (const segmentRows of [1, 256, 300, 1000, 4999]) {
      const many = await pass(file, { batchRows: 700, segmentRows });
      assert.deepEqual(many.offsets, one.offsets, `segmentRows ${segmentRows}`);
      assert.deepEqual(many.ids, one.ids, `segmentRows ${segmentRows}`);
      assert.equal(many.sum, one.sum, `segmentRows ${segmentRows}`);
    }
    // Shard ranges that start and end inside row groups and segments.
    const ranges = [
      [100, 1300],
      [2000, 2100],
      [4000, 5000],
    ] as const;
    const cut = await pass(file, { ranges, segmentRows: 256 });
    const whole = await pass(file, { ranges, segmentRows: 1 << 30 });
    assert.deepEqual(cut.ids, whole.ids);
    assert.equal(cut.ids.length, 1200 + 100 + 1000);
    assert.deepEqual(cut.offsets, whole.offsets);
  });

  it('counts bad rows over all of a file’s segments, and hands out none after the first', async () => {
    const file = path.join(dir, 'seg-bad.parquet');
    const bad = `CASE WHEN i IN (10, 2600, 4990) THEN [1, 'nan'::FLOAT, 2, 3, 4, 5, 6, 7] ELSE
      list_transform(range(${DIM}), j -> ((hash(i * 131 + j) % 2000) / 1000.0 - 1.0)::FLOAT) END`;
    await writeChunks(file, { rows: 5000, dim: DIM, rowGroupSize: 512, id: 'i', embedding: bad });
    for (const segmentRows of [1, 1 << 30]) {
      const reader = await openChunks(file);
      const offsets: number[] = [];
      await assert.rejects(
        (async () => {
          for await (const batch of reader.batches({ batchRows: 1000, segmentRows }))
            offsets.push(batch.rowOffset);
        })(),
        (err: Error) =>
          err instanceof BadInputError &&
          err.message.includes('3 rows have NaN or Inf values') &&
          err.message.includes('first ids: 10, 2600, 4990'),
      );
      reader.close();
      assert.deepEqual(offsets, [], `segmentRows ${segmentRows}: the first batch holds row 10`);
    }
  });
});

describe('build: chunk_meta beside the add is the table built after it', () => {
  const parts = path.join(dir, 'parts');
  mkdirSync(parts);
  const files: [string, number, number][] = [
    ['a.parquet', 0, 1500],
    ['b.parquet', 1500, 1700],
    ['c.parquet', 1700, 4100],
  ];

  async function catalogRows(root: string, version: string, sql: string): Promise<unknown[][]> {
    const catalog = path.join(root, 'versions', version, 'catalog.duckdb');
    return duckdbRows(`ATTACH '${catalog}' AS c (READ_ONLY); ${sql}`);
  }

  it('the same rows (datasets: faiss_row counts across files), the same hashes, and the stages reported', async () => {
    for (const [name, from, to] of files) {
      await writeChunks(path.join(parts, name), {
        rows: 4100,
        dim: DIM,
        rowGroupSize: 400,
        where: `i >= ${from} AND i < ${to}`,
      });
    }
    const root = path.join(dir, 'root');
    const early = runCli([
      '--root',
      root,
      '--json',
      'build',
      '--chunks',
      parts,
      '--factory',
      'Flat',
      '--version',
      'early',
    ]);
    assert.equal(early.code, 0, early.stderr);
    const late = runCli([
      '--root',
      root,
      '--json',
      '--duckdb-memory',
      '1GB',
      'build',
      '--chunks',
      parts,
      '--factory',
      'Flat',
      '--version',
      'late',
    ]);
    assert.equal(late.code, 0, late.stderr);

    const meta = 'SELECT id, uri, lang, start_line, end_line, faiss_row FROM c.chunk_meta ORDER BY id';
    const a = await catalogRows(root, 'early', meta);
    const b = await catalogRows(root, 'late', meta);
    assert.equal(a.length, 4100);
    assert.deepEqual(a, b);
    // faiss_row is each id's row in idmap.parquet (the FAISS row), across the three files.
    const idmap = await duckdbRows(
      `SELECT external_id, faiss_row FROM read_parquet($1) ORDER BY external_id`,
      [path.join(root, 'versions/early/idmap.parquet')],
    );
    assert.deepEqual(
      a.map((r) => [r[0], r[5]]),
      idmap,
    );
    const hashes = 'SELECT id, hash FROM c.chunk_embedding_hash ORDER BY id';
    assert.deepEqual(await catalogRows(root, 'early', hashes), await catalogRows(root, 'late', hashes));
    assert.equal((await catalogRows(root, 'early', hashes)).length, 4100);

    const verified = runCli(['--root', root, 'verify', 'early', '--level', '3']);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    const seconds = (JSON.parse(early.stdout) as { seconds: Record<string, number> }).seconds;
    for (const stage of [
      'open',
      'factory_trial',
      'decode',
      'add',
      'catalog_meta',
      'write_index',
      'write_idmap',
      'catalog',
      'checksum',
      'fsync',
      'seal',
      'total',
    ]) {
      assert.ok(seconds[stage]! >= 0, `stage ${stage} in ${JSON.stringify(seconds)}`);
    }
    for (const stage of Object.keys(seconds))
      assert.ok((BUILD_STAGES as readonly string[]).includes(stage), stage);
    for (const stage of ['open', 'add', 'write_index', 'catalog', 'seal'])
      assert.ok(seconds[stage]! <= seconds.total!, stage);
    const lateSeconds = (JSON.parse(late.stdout) as { seconds: Record<string, number> }).seconds;
    assert.equal(
      lateSeconds.catalog_meta,
      undefined,
      'under a DuckDB memory limit the catalog waits for the add',
    );
  });

  it('--verbose prints one line per stage; without it, the total', async () => {
    const file = path.join(dir, 'one.parquet');
    await writeChunks(file, { rows: 500, dim: DIM });
    const root = path.join(dir, 'root-verbose');
    const verbose = runCli([
      '--root',
      root,
      '--verbose',
      'build',
      '--chunks',
      file,
      '--factory',
      'Flat',
      '--version',
      'v',
    ]);
    assert.equal(verbose.code, 0, verbose.stderr);
    for (const stage of [
      'open',
      'factory_trial',
      'add',
      'write_index',
      'catalog',
      'checksum',
      'fsync',
      'seal',
      'total',
    ]) {
      assert.match(verbose.stdout, new RegExp(`^    ${stage} +\\d+\\.\\d{3}$`, 'm'), stage);
    }
    const plain = runCli(['--root', root, 'build', '--chunks', file, '--factory', 'Flat', '--version', 'w']);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /^ {2}time {6}\d+\.\d s \(--verbose: each stage\)$/m);
    assert.doesNotMatch(plain.stdout, /^ {4}factory_trial/m);
  });
});
