/**
 * train once, build N shards, merge: the merged version equals `build --trained` on the same input
 * (same ids, same search results) and passes verify; bad shard sets are refused with the documented
 * exit code, the shard named, and nothing published. Real FAISS, DuckDB and Parquet, through the CLI.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { openCatalog } from '../src/core/catalog/open.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { copyToParquet } from './helpers/duckdb-parquet.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-shards-');
const chunks = path.join(dir, 'chunks.parquet');
// 10240 rows in 5 row groups of 2048 (DuckDB's smallest): shards of 3 get 2, 2 and 1 row groups.
const ROWS = 10240;
await writeChunks(chunks, { rows: ROWS, dim: 16, rowGroupSize: 2048 });
const all = await readAllChunks(chunks);
// The same rows with `uri` named `path` (and, in `both`, kept as `uri` too).
const renamed = path.join(dir, 'renamed-uri.parquet');
const both = path.join(dir, 'both-uri.parquet');
await copyToParquet(
  renamed,
  `SELECT * EXCLUDE (uri), 'renamed/' || uri AS path FROM read_parquet('${chunks}')`,
  2048,
);
await copyToParquet(both, `SELECT *, 'renamed/' || uri AS path FROM read_parquet('${chunks}')`, 2048);

function ok(res: CliResult, what: string): string {
  assert.equal(res.code, 0, `${what}: exit ${res.code}\n${res.stderr}`);
  return res.stdout;
}

function versionsOf(root: string): string[] {
  return existsSync(path.join(root, 'versions')) ? readdirSync(path.join(root, 'versions')) : [];
}

function stagingOf(root: string): string[] {
  return existsSync(path.join(root, 'staging')) ? readdirSync(path.join(root, 'staging')) : [];
}

function trainCli(factory: string, out: string, ...extra: string[]): CliResult {
  return runCli(['train', '--chunks', chunks, '--factory', factory, '--out', out, ...extra]);
}

function shardCli(trained: string, shard: string, out: string): CliResult {
  return runCli(['build', '--chunks', chunks, '--trained', trained, '--shard', shard, '--out', out]);
}

/** Queries: stored vectors of sampled rows, nudged, searched one at a time (no BLAS batching). */
function searchAll(index: FaissIndex, queries: Float32Array[]): { labels: bigint[]; distances: number[] }[] {
  return queries.map((q) => {
    const r = index.search(q, 10);
    return { labels: [...r.labels], distances: [...r.distances] };
  });
}

function trainShardsMerge(
  name: string,
  factory: string,
  n: number,
): { root: string; trained: string; shards: string[] } {
  const base = path.join(dir, name);
  const trained = path.join(base, 'trained.faiss');
  ok(trainCli(factory, trained, '--train-sample', '1000'), `train ${factory}`);
  const shards = Array.from({ length: n }, (_, i) => path.join(base, `shard-${i}`));
  shards.forEach((s, i) => ok(shardCli(trained, `${i}/${n}`, s), `shard ${i}/${n}`));
  return { root: path.join(base, 'root'), trained, shards };
}

describe('train + build --shard + merge = build --trained', () => {
  for (const factory of ['Flat', 'IVF16,Flat', 'IVF16,PQ4x4']) {
    it(`${factory}: 3 shards merged hold the same ids and return the same neighbours; verify --level 3 passes`, async () => {
      const { root, trained, shards } = trainShardsMerge(factory.replace(/\W/g, '_'), factory, 3);
      ok(runCli(['--root', root, 'merge', ...shards, '--version', 'merged']), 'merge');
      ok(
        runCli(['--root', root, 'build', '--chunks', chunks, '--trained', trained, '--version', 'single']),
        'build --trained',
      );
      ok(runCli(['--root', root, 'verify', 'merged', '--level', '3']), 'verify merged');

      const merged = path.join(root, 'versions', 'merged');
      const single = path.join(root, 'versions', 'single');
      const idsOf = async (v: string) =>
        [...(await readIdMap(path.join(v, 'idmap.parquet'))).externalId].sort();
      assert.deepEqual(await idsOf(merged), await idsOf(single));
      assert.equal((await idsOf(merged)).length, ROWS);

      const a = FaissIndex.read(path.join(merged, 'faiss.index'));
      const b = FaissIndex.read(path.join(single, 'faiss.index'));
      try {
        assert.equal(a.className, b.className);
        a.checkConsistency();
        const queries = [0, 1, 7, 2047, 2048, 4100, 7777, ROWS - 1].map((row) =>
          all.vectors.slice(row * 16, (row + 1) * 16).map((x, j) => x + (j % 3 === 0 ? 0.01 : -0.005)),
        );
        assert.deepEqual(searchAll(a, queries), searchAll(b, queries));
      } finally {
        a.dispose();
        b.dispose();
      }
      const manifest = JSON.parse(readFileSync(path.join(merged, 'manifest.json'), 'utf8'));
      const sidecar = JSON.parse(readFileSync(`${trained}.json`, 'utf8'));
      assert.equal(manifest.attrs.trained_checksum, sidecar.checksum);
      assert.equal(manifest.vectors_count, ROWS);
    });
  }

  it('the same shard built twice gives the same bytes', () => {
    const base = path.join(dir, 'twice');
    const trained = path.join(base, 'trained.faiss');
    ok(trainCli('IVF16,Flat', trained, '--train-sample', '1000'), 'train');
    ok(shardCli(trained, '1/3', path.join(base, 'a')), 'shard a');
    ok(shardCli(trained, '1/3', path.join(base, 'b')), 'shard b');
    for (const f of ['faiss.index', 'idmap.parquet', 'shard.json']) {
      assert.ok(readFileSync(path.join(base, 'a', f)).equals(readFileSync(path.join(base, 'b', f))), f);
    }
    // A retried job writes over its shard; a directory with anything else is refused, not removed.
    ok(shardCli(trained, '1/3', path.join(base, 'a')), 'shard a again');
    mkdirSync(path.join(base, 'home'));
    writeFileSync(path.join(base, 'home', 'notes.txt'), 'keep me');
    const res = shardCli(trained, '1/3', path.join(base, 'home'));
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /home: not empty and not a shard directory \(has notes\.txt\)/);
    assert.equal(readFileSync(path.join(base, 'home', 'notes.txt'), 'utf8'), 'keep me');
    const m = JSON.parse(readFileSync(path.join(base, 'a', 'shard.json'), 'utf8'));
    assert.deepEqual(m.inputs[0].row_groups, [1, 4]);
    assert.equal(m.vectors, 2 * 2048);
  });
});

describe('bad shards are refused, named, with nothing published', () => {
  const { root, shards } = trainShardsMerge('bad', 'IVF16,Flat', 3);
  const refused = (args: string[], code: number, message: RegExp) => {
    const res = runCli(['--root', root, 'merge', ...args, '--version', 'bad']);
    assert.equal(res.code, code, res.stderr);
    assert.match(res.stderr, message);
    assert.deepEqual(versionsOf(root), []);
    assert.deepEqual(stagingOf(root), []);
  };

  it('a missing shard: exit 3 naming which', () => {
    refused([shards[0]!, shards[2]!], 3, /shard 1\/3 missing: 2 of 3 given/);
  });

  it('a shard given twice: exit 3 naming both directories', () => {
    const copy = path.join(dir, 'bad', 'shard-1-copy');
    cpSync(shards[1]!, copy, { recursive: true });
    refused(
      [shards[0]!, shards[1]!, copy, shards[2]!],
      3,
      /shard-1-copy: shard 1\/3 is given twice \(also .*shard-1\)/,
    );
  });

  it('a shard from another trained file: exit 3 naming it and both checksums', () => {
    const other = path.join(dir, 'bad', 'other.faiss');
    ok(trainCli('IVF16,Flat', other, '--train-sample', '1000', '--seed', '5'), 'train other');
    const stray = path.join(dir, 'bad', 'stray-2');
    ok(shardCli(other, '2/3', stray), 'stray shard');
    refused(
      [shards[0]!, shards[1]!, stray],
      3,
      /stray-2: built from trained index xxh64:[0-9a-f]{16} .*other\.faiss/,
    );
  });

  it('an id in two shards (a shard of another file passed off as this one): exit 3 naming both', async () => {
    // Row group 1 of this file holds the ids of row group 0 of the real input.
    const other = path.join(dir, 'bad', 'overlap.parquet');
    await writeChunks(other, {
      rows: ROWS,
      dim: 16,
      rowGroupSize: 2048,
      id: '((i + 8192) % 10240) * 1000 + 7',
    });
    const trained = path.join(dir, 'bad', 'trained.faiss');
    const forged = path.join(dir, 'bad', 'forged-1');
    ok(
      runCli(['build', '--chunks', other, '--trained', trained, '--shard', '1/3', '--out', forged]),
      'forged shard',
    );
    const m = JSON.parse(readFileSync(path.join(forged, 'shard.json'), 'utf8'));
    m.inputs = JSON.parse(readFileSync(path.join(shards[1]!, 'shard.json'), 'utf8')).inputs;
    writeFileSync(path.join(forged, 'shard.json'), JSON.stringify(m));
    refused(
      [shards[0]!, forged, shards[2]!],
      3,
      /id 7 is in shards 0\/3 \(.*shard-0\) and 1\/3 \(.*forged-1\)/,
    );
  });

  it('a flipped byte in a shard index: exit 4 naming the file', () => {
    const damaged = path.join(dir, 'bad', 'damaged-2');
    cpSync(shards[2]!, damaged, { recursive: true });
    const file = path.join(damaged, 'faiss.index');
    const bytes = readFileSync(file);
    bytes[bytes.length - 100]! ^= 0x10;
    writeFileSync(file, bytes);
    refused(
      [shards[0]!, shards[1]!, damaged],
      4,
      /damaged-2\/faiss\.index: checksum xxh64:[0-9a-f]{16}, shard\.json records/,
    );
  });

  it('HNSW is refused by train with exit 2 naming a mergeable factory', () => {
    const res = trainCli('HNSW32', path.join(dir, 'bad', 'hnsw.faiss'));
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /HNSW graphs cannot be merged.*IVF4096_HNSW32,PQ48 /);
    assert.equal(existsSync(path.join(dir, 'bad', 'hnsw.faiss')), false);
    const fastScan = trainCli('IVF16,PQ4x4fs', path.join(dir, 'bad', 'fs.faiss'));
    assert.equal(fastScan.code, 2, fastScan.stderr);
    assert.match(fastScan.stderr, /cannot merge fast-scan codes/);
  });

  it('build --trained refuses another factory (exit 2) and a trained file that no longer matches its sidecar (exit 4)', () => {
    const trained = path.join(dir, 'bad', 'trained.faiss');
    const wrong = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      chunks,
      '--trained',
      trained,
      '--factory',
      'Flat',
    ]);
    assert.equal(wrong.code, 2, wrong.stderr);
    assert.match(wrong.stderr, /was trained for IVF16,Flat/);
    const damaged = path.join(dir, 'bad', 'damaged.faiss');
    const bytes = readFileSync(trained);
    bytes[bytes.length - 1]! ^= 1;
    writeFileSync(damaged, bytes);
    cpSync(`${trained}.json`, `${damaged}.json`);
    const res = shardCli(damaged, '0/3', path.join(dir, 'bad', 'never'));
    assert.equal(res.code, 4, res.stderr);
    assert.match(res.stderr, /damaged\.faiss: .* bytes with checksum .* records/);
    assert.equal(existsSync(path.join(dir, 'bad', 'never')), false);
    assert.deepEqual(versionsOf(root), []);
  });
});

describe('a dataset (directory or glob) is split by row group across its files', () => {
  // The same 10240 rows as chunks.parquet in three files whose row groups line up with its five:
  // part-10 holds groups 0-1, part-2 group 2, part-9 groups 3-4 (byte order of the names).
  const base = path.join(dir, 'dataset');
  const parts = path.join(base, 'parts');
  const layout: [string, number, number][] = [
    ['part-10.parquet', 0, 4096],
    ['part-2.parquet', 4096, 6144],
    ['part-9.parquet', 6144, ROWS],
  ];
  const writeParts = async (into: string, nanRow?: number) => {
    mkdirSync(into, { recursive: true });
    for (const [name, from, to] of layout) {
      await writeChunks(path.join(into, name), {
        rows: ROWS,
        dim: 16,
        rowGroupSize: 2048,
        where: `i >= ${from} AND i < ${to}`,
        ...(nanRow !== undefined
          ? {
              embedding: `CASE WHEN i = ${nanRow} THEN [CAST('NaN' AS FLOAT) for j in range(16)]
                ELSE list_transform(range(16), j -> ((hash(i * 131 + j) % 2000) / 1000.0 - 1.0)::FLOAT) END`,
            }
          : {}),
      });
    }
  };
  const trained = path.join(base, 'trained.faiss');
  const glob = path.join(parts, '*.parquet');
  const shards = [0, 1, 2].map((i) => path.join(base, `shard-${i}`));
  const datasetShard = (chunksArg: string, i: number, out: string) =>
    runCli(['build', '--chunks', chunksArg, '--trained', trained, '--shard', `${i}/3`, '--out', out]);

  it('3 shards of a glob merge into what build --trained of the one file makes; shard.json lists every file', async () => {
    await writeParts(parts);
    ok(
      runCli([
        'train',
        '--chunks',
        parts,
        '--factory',
        'IVF16,Flat',
        '--train-sample',
        '1000',
        '--out',
        trained,
      ]),
      'train',
    );
    shards.forEach((s, i) => ok(datasetShard(glob, i, s), `shard ${i}/3`));
    const files = layout
      .map(([n]) => path.join(parts, n))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const m2 = JSON.parse(readFileSync(path.join(shards[2]!, 'shard.json'), 'utf8'));
    assert.deepEqual(
      m2.inputs.map((i: { file: string; row_groups: number[]; rows_covered: number }) => [
        i.file,
        i.row_groups,
        i.rows_covered,
      ]),
      [
        [files[0], [], 0],
        [files[1], [0], 2048],
        [files[2], [], 0],
      ],
    );
    const m0 = JSON.parse(readFileSync(path.join(shards[0]!, 'shard.json'), 'utf8'));
    assert.deepEqual(
      m0.inputs.map((i: { row_groups: number[] }) => i.row_groups),
      [[0], [], [0]],
    );
    assert.equal(m0.dataset, glob);

    const root = path.join(base, 'root');
    ok(runCli(['--root', root, 'merge', ...shards, '--version', 'merged']), 'merge');
    ok(
      runCli(['--root', root, 'build', '--chunks', chunks, '--trained', trained, '--version', 'single']),
      'build --trained',
    );
    ok(runCli(['--root', root, 'verify', 'merged', '--level', '3']), 'verify merged');
    const merged = path.join(root, 'versions', 'merged');
    const single = path.join(root, 'versions', 'single');
    const idsOf = async (v: string) =>
      [...(await readIdMap(path.join(v, 'idmap.parquet'))).externalId].sort();
    assert.deepEqual(await idsOf(merged), await idsOf(single));
    // The merged version's one chunks.parquet holds the dataset's rows in order.
    assert.deepEqual([...(await readAllChunks(path.join(merged, 'chunks.parquet'))).ids], [...all.ids]);
    const manifest = JSON.parse(readFileSync(path.join(merged, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.attrs.source_files, files);
    const a = FaissIndex.read(path.join(merged, 'faiss.index'));
    const b = FaissIndex.read(path.join(single, 'faiss.index'));
    try {
      const queries = [0, 2047, 4096, 6143, 6144, ROWS - 1].map((row) =>
        all.vectors.slice(row * 16, (row + 1) * 16).map((x, j) => x + (j % 3 === 0 ? 0.01 : -0.005)),
      );
      assert.deepEqual(searchAll(a, queries), searchAll(b, queries));
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it("a shard reads only its own row groups: a NaN row in another shard's row group does not stop it", async () => {
    // Row 9000 is in part-9's second row group: dataset row group 4, shard 1 of 3.
    const nan = path.join(base, 'nan-parts');
    await writeParts(nan, 9000);
    ok(datasetShard(nan, 0, path.join(base, 'nan-0')), 'shard 0 (has part-9 group 0, not group 1)');
    ok(datasetShard(nan, 2, path.join(base, 'nan-2')), 'shard 2');
    const res = datasetShard(nan, 1, path.join(base, 'nan-1'));
    assert.equal(res.code, 5, res.stderr);
    assert.match(
      res.stderr,
      /nan-parts\/part-9\.parquet: column "embedding": 1 row has NaN or Inf values \(first ids: 9000007\)/,
    );
    assert.equal(existsSync(path.join(base, 'nan-1')), false);
  });

  it('a shard of another file list, or merge --chunks of another dataset: exit 3, named', () => {
    const root = path.join(base, 'bad-root');
    // part-1*.parquet matches part-10 alone: a shard of a one-file input.
    const stray = path.join(base, 'stray-1');
    ok(datasetShard(path.join(parts, 'part-1*.parquet'), 1, stray), 'stray shard');
    let res = runCli(['--root', root, 'merge', shards[0]!, stray, shards[2]!, '--version', 'bad']);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /stray-1: covers 1 file \(.*part-10\.parquet\), but .*shard-0 covers 3 \(/);
    res = runCli(['--root', root, 'merge', ...shards, '--chunks', chunks, '--version', 'bad']);
    assert.equal(res.code, 3, res.stderr);
    assert.match(res.stderr, /--chunks: 1 file \(.*chunks\.parquet\), but the shards were built from 3 \(/);
    assert.deepEqual(versionsOf(root), []);
    assert.deepEqual(stagingOf(root), []);
  });
});

describe('renamed hydration columns reach the merged catalog', () => {
  const shardOf = (input: string, trained: string, shard: string, out: string, ...extra: string[]) =>
    runCli(['build', '--chunks', input, '--trained', trained, '--shard', shard, '--out', out, ...extra]);

  it('--uri-column on the shards: recorded in shard.json, the merged catalog hydrates from it', async () => {
    const base = path.join(dir, 'renamed');
    const trained = path.join(base, 'trained.faiss');
    ok(
      runCli([
        'train',
        '--chunks',
        renamed,
        '--factory',
        'IVF16,Flat',
        '--out',
        trained,
        '--train-sample',
        '1000',
      ]),
      'train',
    );
    const missing = shardOf(renamed, trained, '0/2', path.join(base, 'no-flag'));
    assert.equal(missing.code, 5, missing.stderr);
    assert.match(missing.stderr, /missing column "uri".*--uri-column/);
    const shards = [0, 1].map((i) => path.join(base, `shard-${i}`));
    shards.forEach((s, i) =>
      ok(shardOf(renamed, trained, `${i}/2`, s, '--uri-column', 'path'), `shard ${i}`),
    );
    const recorded = JSON.parse(readFileSync(path.join(shards[0]!, 'shard.json'), 'utf8'));
    assert.deepEqual(recorded.metadata_columns, { uri: 'path' });

    const root = path.join(base, 'root');
    ok(runCli(['--root', root, 'merge', ...shards, '--version', 'merged']), 'merge');
    ok(runCli(['--root', root, 'verify', 'merged', '--level', '3']), 'verify merged');
    const vdir = path.join(root, 'versions', 'merged');
    const manifest = JSON.parse(readFileSync(path.join(vdir, 'manifest.json'), 'utf8'));
    assert.deepEqual(manifest.attrs.metadata_columns, { uri: 'path' });
    const catalog = await openCatalog(vdir);
    try {
      assert.deepEqual(await catalog.query('SELECT uri FROM chunks WHERE id = 7'), [
        { uri: 'renamed/src/f0.ts' },
      ]);
    } finally {
      catalog.close();
    }
  });

  it('shards that read different columns: merge exit 3 naming both, nothing published', () => {
    const base = path.join(dir, 'mixed-columns');
    const trained = path.join(base, 'trained.faiss');
    ok(runCli(['train', '--chunks', both, '--factory', 'Flat', '--out', trained]), 'train');
    const a = path.join(base, 'shard-0');
    const b = path.join(base, 'shard-1');
    ok(shardOf(both, trained, '0/2', a, '--uri-column', 'path'), 'shard 0 reads path');
    ok(shardOf(both, trained, '1/2', b), 'shard 1 reads uri');
    const root = path.join(base, 'root');
    const res = runCli(['--root', root, 'merge', a, b, '--version', 'merged']);
    assert.equal(res.code, 3, res.stderr);
    assert.match(
      res.stderr,
      /shard-1: built reading columns id=id embedding=embedding, but .*shard-0 id=id embedding=embedding uri=path/,
    );
    assert.deepEqual(versionsOf(root), []);
  });
});
