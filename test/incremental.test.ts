/**
 * build --chunks NEW --base V1: V1's index minus the removed and changed chunks plus the added and
 * changed equals `build --chunks NEW --trained T` (T: V1's trained index) in ids and search results;
 * indexes FAISS cannot remove from accept additions only (exit 2, nothing staged); bad bases are
 * refused with their exit codes; the drift check warns and, asked to, trains afresh. Real FAISS,
 * DuckDB and Parquet, through the CLI.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { DuckDBInstance } from '@duckdb/node-api';

import { loadXxh64 } from '../src/core/checksum.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { computeFileEntries, writeManifestAtomic, type Manifest } from '../src/core/manifest/schema.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { flipByte } from './helpers/tamper.js';

const dir = tmpDir('indexctl-incremental-');
const DIM = 16;
const RAND = (salt: number) =>
  `list_transform(range(${DIM}), j -> ((hash(i * 131 + j + ${salt}) % 2000) / 1000.0 - 1.0)::FLOAT)`;
const v1Chunks = path.join(dir, 'v1.parquet');
// NEW: rows i % 10 = 3 removed, i % 10 = 5 changed (another embedding), rows 4000..4399 added
// (360 of them: the same filter applies).
const newChunks = path.join(dir, 'new.parquet');
const addOnly = path.join(dir, 'add-only.parquet');
const shifted = path.join(dir, 'shifted.parquet');
await writeChunks(v1Chunks, { rows: 4000, dim: DIM });
await writeChunks(newChunks, {
  rows: 4400,
  dim: DIM,
  where: 'i % 10 != 3',
  embedding: `CASE WHEN i % 10 = 5 THEN ${RAND(77)} ELSE ${RAND(0)} END`,
});
await writeChunks(addOnly, { rows: 4400, dim: DIM });
// The changed and added rows moved far from the data the base was trained on.
await writeChunks(shifted, {
  rows: 4400,
  dim: DIM,
  embedding: `CASE WHEN i % 10 = 5 OR i >= 4000 THEN list_transform(${RAND(9)}, x -> x * 4 + 3) ELSE ${RAND(0)} END`,
});
const newRows = await readAllChunks(newChunks);

function ok(res: CliResult, what: string): string {
  assert.equal(res.code, 0, `${what}: exit ${res.code}\n${res.stderr}`);
  return res.stdout;
}

function listing(root: string, sub: string): string[] {
  return existsSync(path.join(root, sub)) ? readdirSync(path.join(root, sub)) : [];
}

function manifestOf(root: string, v: string): Manifest {
  return JSON.parse(readFileSync(path.join(root, 'versions', v, 'manifest.json'), 'utf8')) as Manifest;
}

/** Runs SQL on a sealed version's catalog, then re-seals its checksum (as another tool's catalog would be). */
async function alterCatalog(root: string, v: string, sql: string[]): Promise<void> {
  const vdir = path.join(root, 'versions', v);
  const db = await DuckDBInstance.create(path.join(vdir, 'catalog.duckdb'));
  const c = await db.connect();
  for (const q of sql) await c.run(q);
  await c.run('CHECKPOINT');
  c.closeSync();
  db.closeSync();
  const m = manifestOf(root, v);
  m.files['catalog.duckdb'] = (await computeFileEntries(vdir, ['catalog.duckdb']))['catalog.duckdb']!;
  await writeManifestAtomic(vdir, m);
}

/** A root holding V1 built from T (trained on V1's chunks) with `factory`. */
function baseRoot(name: string, factory: string): { root: string; trained: string } {
  const root = path.join(dir, name);
  const trained = path.join(root, 'trained.faiss');
  ok(
    runCli(['train', '--chunks', v1Chunks, '--factory', factory, '--out', trained, '--train-sample', '2000']),
    'train',
  );
  ok(
    runCli(['--root', root, 'build', '--chunks', v1Chunks, '--trained', trained, '--version', 'v1']),
    'build v1',
  );
  return { root, trained };
}

function searchAll(index: FaissIndex, rows: number[]): string[] {
  return rows.map((row) => {
    const q = newRows.vectors
      .slice(row * DIM, (row + 1) * DIM)
      .map((x, j) => x + (j % 3 === 0 ? 0.01 : -0.005));
    const r = index.search(q, 10);
    // Ids with their distances: equal distances (ties) could come in another order inside a list.
    return [...r.labels]
      .map((id, i) => `${r.distances[i]!.toFixed(5)}:${id}`)
      .sort()
      .join(' ');
  });
}

describe('build --base: equals build --trained on the same chunks', () => {
  for (const factory of ['Flat', 'IVF16,Flat', 'IVF16,PQ4x4']) {
    it(`${factory}: same ids, same neighbours and distances; counts and base_version recorded`, async () => {
      const { root, trained } = baseRoot(factory.replace(/\W/g, '_'), factory);
      const out = ok(
        runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'v2', '--json']),
        'build --base',
      );
      ok(
        runCli(['--root', root, 'build', '--chunks', newChunks, '--trained', trained, '--version', 'full']),
        'full',
      );
      ok(runCli(['--root', root, 'verify', 'v2', '--level', '3']), 'verify v2');
      const report = JSON.parse(out) as { incremental: Record<string, unknown> };
      assert.deepEqual(
        { ...report.incremental, drift: undefined },
        {
          base_version: 'v1',
          removed: 400,
          added: 360,
          changed: 400,
          unchanged: 3200,
          retrained: false,
          drift: undefined,
        },
      );
      const m = manifestOf(root, 'v2');
      assert.equal(m.base_version, 'v1');
      // The index was trained as V1's was: the training facts carry over.
      assert.equal(m.attrs?.trained_checksum, manifestOf(root, 'v1').attrs?.trained_checksum);
      assert.equal(m.incremental?.changed, 400);
      assert.equal(m.vectors_count, 3960);
      const idsOf = async (v: string) =>
        [...(await readIdMap(path.join(root, 'versions', v, 'idmap.parquet'))).externalId].sort();
      assert.deepEqual(await idsOf('v2'), await idsOf('full'));
      const a = FaissIndex.read(path.join(root, 'versions', 'v2', 'faiss.index'));
      const b = FaissIndex.read(path.join(root, 'versions', 'full', 'faiss.index'));
      try {
        a.checkConsistency();
        const rows = [0, 4, 15, 1234, 2005, 3599, 3600, 3700, 3959]; // rows 3600.. are the added ones
        assert.deepEqual(searchAll(a, rows), searchAll(b, rows));
      } finally {
        a.dispose();
        b.dispose();
      }
    });
  }

  it('PCA8,IVF16,Flat: removal works behind the pre-transform: every chunk found under its own id', async () => {
    const root = path.join(dir, 'pca');
    ok(
      runCli([
        '--root',
        root,
        'build',
        '--chunks',
        v1Chunks,
        '--factory',
        'PCA8,IVF16,Flat',
        '--version',
        'v1',
      ]),
      'v1',
    );
    ok(
      runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'v2']),
      'build --base',
    );
    assert.equal(manifestOf(root, 'v2').incremental?.removed, 400);
    const index = FaissIndex.read(path.join(root, 'versions', 'v2', 'faiss.index'));
    try {
      index.setParameters('nprobe=16');
      const { labels } = index.search(newRows.vectors, 1);
      const wrong = [...newRows.ids].filter((id, r) => labels[r] !== id);
      assert.deepEqual(wrong, []);
    } finally {
      index.dispose();
    }
  });

  it('a cosine base: NEW is normalized as V1 was, so unchanged rows hash alike', () => {
    const root = path.join(dir, 'cosine');
    ok(
      runCli([
        '--root',
        root,
        'build',
        '--chunks',
        v1Chunks,
        '--factory',
        'Flat',
        '--metric',
        'cosine',
        '--version',
        'v1',
      ]),
      'v1',
    );
    ok(
      runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'v2']),
      'build --base',
    );
    const m = manifestOf(root, 'v2');
    assert.equal(m.metric, 'cosine');
    assert.equal(m.incremental?.unchanged, 3200);
    const res = runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--metric', 'ip']);
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /--metric ip: base version v1 uses metric cosine/);
  });

  it('verify checks chunk_embedding_hash: a row short is exit 3 naming the table', async () => {
    const root = path.join(dir, 'IVF16_Flat');
    await alterCatalog(root, 'full', ['DELETE FROM chunk_embedding_hash WHERE id = 7']);
    const res = runCli(['--root', root, 'verify', 'full', '--level', '2']);
    assert.equal(res.code, 3, res.stdout + res.stderr);
    assert.match(res.stdout + res.stderr, /chunk_embedding_hash has 3959 rows for 3960 vectors/);
  });

  it('the catalog holds every chunk embedding hash: xxh64 of the row float32 bytes', async () => {
    const root = path.join(dir, 'IVF16_Flat');
    const db = await DuckDBInstance.create(path.join(root, 'versions', 'v2', 'catalog.duckdb'), {
      access_mode: 'READ_ONLY',
    });
    const c = await db.connect();
    const rows = (await c.runAndReadAll('SELECT id, hash FROM chunk_embedding_hash ORDER BY id')).getRowsJS();
    c.closeSync();
    db.closeSync();
    assert.equal(rows.length, newRows.ids.length);
    const api = await loadXxh64();
    const want = [...newRows.ids.keys()]
      .map((r) => {
        const bytes = new Uint8Array(
          newRows.vectors.buffer,
          newRows.vectors.byteOffset + r * DIM * 4,
          DIM * 4,
        );
        return `${newRows.ids[r]}:${api.h64Raw(bytes, 0n)}`;
      })
      .sort();
    assert.deepEqual(rows.map(([id, hash]) => `${id}:${hash}`).sort(), want);
  });

  it('a base without chunk_embedding_hash (older versions): its chunks.parquet is hashed instead', async () => {
    const { root } = baseRoot('older', 'IVF16,Flat');
    await alterCatalog(root, 'v1', ['DROP TABLE chunk_embedding_hash']);
    ok(runCli(['--root', root, 'verify', 'v1', '--level', '1']), 'verify v1');
    ok(
      runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'v2']),
      'build --base',
    );
    assert.deepEqual(manifestOf(root, 'v2').incremental, {
      ...manifestOf(root, 'v2').incremental,
      removed: 400,
      changed: 400,
      added: 360,
      unchanged: 3200,
    });
  });
});

describe('build --base: indexes FAISS cannot remove from accept additions only', () => {
  for (const [factory, reason] of [
    ['HNSW8', /cannot remove vectors from an HNSW graph/],
    ['IVF16,PQ4x4fs', /cannot remove from fast-scan \(block\) inverted lists/],
    ['IVF16,PQ4x4,RFlat', /cannot remove from a refine stage/],
  ] as const) {
    it(`${factory}: additions build; a removal or change is exit 2 with the reason, nothing staged`, () => {
      const root = path.join(dir, factory.replace(/\W/g, '_'));
      ok(
        runCli(['--root', root, 'build', '--chunks', v1Chunks, '--factory', factory, '--version', 'v1']),
        'v1',
      );
      ok(
        runCli(['--root', root, 'build', '--chunks', addOnly, '--base', 'v1', '--version', 'v2']),
        'additions',
      );
      assert.deepEqual(
        { ...manifestOf(root, 'v2').incremental, drift: null },
        { removed: 0, added: 400, changed: 0, unchanged: 4000, retrained: false, drift: null },
      );
      const res = runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'v3']);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, reason);
      assert.match(res.stderr, /400 removed and 400 changed/);
      assert.deepEqual(listing(root, 'versions').sort(), ['v1', 'v2']);
      assert.deepEqual(listing(root, 'staging'), []);
    });
  }
});

describe('build --base: bad bases and flags', () => {
  const { root } = baseRoot('bad', 'IVF16,Flat');

  it('a missing base is exit 6', () => {
    const res = runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'nope', '--version', 'x']);
    assert.equal(res.code, 6, res.stderr);
    assert.match(res.stderr, /version not found: nope/);
  });

  it('another dimension is exit 5 naming both', async () => {
    const narrow = path.join(dir, 'narrow.parquet');
    await writeChunks(narrow, { rows: 500, dim: 8 });
    const res = runCli(['--root', root, 'build', '--chunks', narrow, '--base', 'v1', '--version', 'x']);
    assert.equal(res.code, 5, res.stderr);
    assert.match(
      res.stderr,
      /narrow\.parquet: dimension 8, but base version v1 holds vectors of dimension 16/,
    );
  });

  it('--base with --trained, or another --factory, is exit 2', () => {
    const res = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      newChunks,
      '--base',
      'v1',
      '--trained',
      't',
      '--version',
      'x',
    ]);
    assert.equal(res.code, 2, res.stderr);
    const other = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      newChunks,
      '--base',
      'v1',
      '--factory',
      'Flat',
    ]);
    assert.equal(other.code, 2, other.stderr);
    assert.match(other.stderr, /base version v1 is IVF16,Flat/);
  });

  it('a damaged faiss.index is exit 4, nothing staged (checked last: it damages the base)', () => {
    flipByte(path.join(root, 'versions', 'v1', 'faiss.index'), 200);
    const res = runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'x']);
    assert.equal(res.code, 4, res.stderr);
    assert.match(
      res.stderr,
      /refusing to build incrementally from v1: verify level 1 failed .*files\.checksum.*faiss\.index/,
    );
    assert.deepEqual(listing(root, 'versions'), ['v1']);
    assert.deepEqual(listing(root, 'staging'), []);
  });
});

describe('build --base: drift', () => {
  const { root } = baseRoot('drift', 'IVF16,Flat');

  it('same-distribution changes: ratio near 1, no warning', () => {
    const res = runCli(['--root', root, 'build', '--chunks', newChunks, '--base', 'v1', '--version', 'same']);
    ok(res, 'same');
    assert.doesNotMatch(res.stderr, /drift/);
    const d = manifestOf(root, 'same').incremental!.drift!;
    assert.ok(d.ratio > 0.9 && d.ratio < 1.1 && !d.exceeded, JSON.stringify(d));
  });

  it('a shifted distribution: warned on stderr and in the report; --retrain-on-drift trains afresh', () => {
    const res = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      shifted,
      '--base',
      'v1',
      '--version',
      'moved',
      '--json',
    ]);
    ok(res, 'moved');
    assert.match(
      res.stderr,
      /warning: drift: the added and changed vectors lie \d+\.\d+x as far .*\(threshold 1\.15\)/,
    );
    assert.equal(JSON.parse(res.stdout).warnings.length, 1);
    const d = manifestOf(root, 'moved').incremental!.drift!;
    assert.ok(d.exceeded && d.ratio > 1.15, JSON.stringify(d));
    assert.equal(manifestOf(root, 'moved').incremental!.retrained, false);

    const again = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      shifted,
      '--base',
      'v1',
      '--version',
      'retrained',
      '--retrain-on-drift',
    ]);
    ok(again, 'retrained');
    assert.match(again.stderr, /trained afresh/);
    const m = manifestOf(root, 'retrained');
    assert.equal(m.base_version, 'v1');
    assert.equal(m.incremental!.retrained, true);
    assert.equal(m.attrs?.trained_checksum, undefined);
    assert.equal(m.vectors_count, 4400);
    // A threshold above the measured ratio: no warning.
    const high = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      shifted,
      '--base',
      'v1',
      '--version',
      'high',
      '--drift-threshold',
      String(Math.ceil(d.ratio + 1)),
    ]);
    ok(high, 'high');
    assert.doesNotMatch(high.stderr, /warning/);
  });
});
