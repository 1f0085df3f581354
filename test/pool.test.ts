/**
 * Pool directories (src/core/search/pool.ts): concurrent appenders in separate processes lose no
 * row and every row joins v_faiss_join of a real version; refused paths and rows leave nothing.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';

import { openCatalog } from '../src/core/catalog/open.js';
import { BadInputError } from '../src/core/errors.js';
import { appendPool, poolParts, type PoolRow } from '../src/core/search/pool.js';
import { copyToParquet, duckdbRows } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions } from './helpers/versions.js';

const dir = tmpDir();
const root = path.join(dir, 'root');
const versionDir = path.join(root, 'versions', 'v1');
const writerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'pool-writer.js');
// writeChunks' ids: i * 1000 + 7 for i < 200.
const ids = Array.from({ length: 200 }, (_, i) => String(i * 1000 + 7));

const badInput = (pattern: RegExp) => (e: Error) => e instanceof BadInputError && pattern.test(e.message);

const rows = (query: string, n: number, channel = 'faiss'): PoolRow[] =>
  Array.from({ length: n }, (_, i) => ({
    query_id: query,
    channel,
    rank: i + 1,
    chunk_id: (1n << 62n) + BigInt(i),
    score: 0.5 + i,
    explanations: JSON.stringify({ distance: 0.5 + i }),
  }));

function runWriter(pool: string, writer: number, appends: number, perAppend: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [writerScript, pool, String(writer), String(appends), String(perAppend), JSON.stringify(ids)],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`writer ${writer} exited ${code}: ${stderr}`)),
    );
  });
}

before(async () => {
  await buildVersions(root, [{ name: 'v1' }]);
});

describe('appendPool: a directory of Parquet parts', () => {
  it('4 writer processes appending at once lose no row, and every row joins v_faiss_join', async () => {
    const pool = path.join(dir, 'concurrent-pool');
    const [WRITERS, APPENDS, PER_APPEND] = [4, 25, 20];
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => runWriter(pool, w, APPENDS, PER_APPEND)));

    assert.equal(poolParts(pool).length, WRITERS * APPENDS, 'one part per append');
    assert.deepEqual(
      readdirSync(pool).filter((n) => !/^part-.+\.parquet$/.test(n)),
      [],
      'no temp file is left behind',
    );
    const got = await duckdbRows(
      `SELECT query_id, rank, count(*)::INTEGER FROM read_parquet($1) GROUP BY ALL ORDER BY ALL`,
      [path.join(pool, '*.parquet')],
    );
    const expected: unknown[][] = [];
    for (let w = 0; w < WRITERS; w++) {
      for (let a = 0; a < APPENDS; a++) {
        for (let r = 1; r <= PER_APPEND; r++) expected.push([`w${w}-a${a}`, r, 1]);
      }
    }
    expected.sort((x, y) => (x[0] === y[0] ? (x[1] as number) - (y[1] as number) : x[0]! < y[0]! ? -1 : 1));
    assert.equal(got.length, WRITERS * APPENDS * PER_APPEND);
    assert.deepEqual(got, expected, 'every (writer, append, rank) row exactly once');

    const catalog = await openCatalog(versionDir);
    try {
      const joined = await catalog.query(
        `SELECT p.channel, count(*)::INTEGER AS n, count(j.faiss_row)::INTEGER AS with_row,
                count(j.uri)::INTEGER AS with_uri
           FROM read_parquet($glob) p JOIN v_faiss_join j ON j.id = p.chunk_id
          GROUP BY p.channel ORDER BY p.channel`,
        { glob: path.join(pool, '*.parquet') },
      );
      const total = joined.reduce((sum, r) => sum + (r.n as number), 0);
      assert.equal(total, WRITERS * APPENDS * PER_APPEND, 'every pool row joins a chunk');
      assert.deepEqual(
        joined.map((r) => r.channel),
        ['bm25', 'faiss', 'splade'],
      );
      for (const r of joined) {
        assert.equal(r.with_row, r.n, 'every joined chunk has its FAISS row');
        assert.equal(r.with_uri, r.n);
      }
    } finally {
      catalog.close();
    }
  });

  it('creates the directory, keeps int64 ids exactly, and counts the pool after each append', async () => {
    const pool = path.join(dir, 'p1');
    const first = await appendPool(pool, rows('a', 3, 'bm25'));
    assert.equal(first.pool, pool);
    assert.equal(first.appended, 3);
    assert.equal(first.rows, 3);
    assert.ok(first.part !== undefined && path.dirname(first.part) === pool);
    assert.equal((await appendPool(pool, rows('b', 2, 'splade'))).rows, 5);
    assert.deepEqual(await appendPool(pool, []), { pool, appended: 0, rows: 5 });
    assert.equal(poolParts(pool).length, 2, 'an empty append writes no part');
    const got = await duckdbRows(
      `SELECT query_id, channel, rank, chunk_id::VARCHAR, score, explanations FROM read_parquet($1) ORDER BY query_id, rank`,
      [path.join(pool, '*.parquet')],
    );
    assert.deepEqual(got[0], ['a', 'bm25', 1, String(1n << 62n), 0.5, '{"distance":0.5}']);
    assert.deepEqual(got[4]!.slice(0, 4), ['b', 'splade', 2, String((1n << 62n) + 1n)]);
    const types = await duckdbRows(
      `SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))`,
      [path.join(pool, '*.parquet')],
    );
    assert.deepEqual(types, [
      ['query_id', 'VARCHAR'],
      ['channel', 'VARCHAR'],
      ['rank', 'INTEGER'],
      ['chunk_id', 'BIGINT'],
      ['score', 'DOUBLE'],
      ['explanations', 'VARCHAR'],
    ]);
  });

  it('refuses a bad row before writing anything, naming the row', async () => {
    const pool = path.join(dir, 'p-bad');
    await appendPool(pool, rows('a', 2));
    const bad = [...rows('b', 2), { ...rows('c', 1)[0]!, rank: 0 }];
    await assert.rejects(appendPool(pool, bad), badInput(/pool row 2 \(query_id "c"\): rank must be/));
    await assert.rejects(
      appendPool(pool, [{ ...rows('d', 1)[0]!, channel: '' }]),
      badInput(/row 0.*channel/),
    );
    await assert.rejects(
      appendPool(pool, [{ ...rows('e', 1)[0]!, chunk_id: 1n << 63n }]),
      badInput(/chunk_id must be an int64/),
    );
    assert.equal(poolParts(pool).length, 1);
  });

  it('refuses a single-file (legacy) pool with the commands that convert it, which then work', async () => {
    const legacy = path.join(dir, 'legacy.parquet');
    await copyToParquet(
      legacy,
      `SELECT 'old' AS query_id, 'faiss' AS channel, 1::INTEGER AS rank, 7::BIGINT AS chunk_id,
              0.25::DOUBLE AS score, '{}' AS explanations`,
    );
    const before = readFileSync(legacy);
    await assert.rejects(appendPool(legacy, rows('a', 1)), badInput(/is a file .*mkdir/));
    assert.deepEqual(readFileSync(legacy), before, 'left untouched');
    // The conversion the message gives: the file becomes the pool's first part.
    renameSync(legacy, `${legacy}.legacy`);
    mkdirSync(legacy);
    renameSync(`${legacy}.legacy`, path.join(legacy, 'part-legacy.parquet'));
    assert.equal((await appendPool(legacy, rows('a', 2))).rows, 3);
  });

  it('refuses a FIFO at the pool path without opening it (bounds: non-regular files)', async () => {
    const fifo = path.join(dir, 'fifo-pool');
    const made = spawnSync('mkfifo', [fifo]);
    assert.equal(made.status, 0, String(made.stderr));
    await assert.rejects(appendPool(fifo, rows('a', 1)), badInput(/is a FIFO, not a pool directory/));
    assert.ok(existsSync(fifo));
  });

  it('refuses a part that is not a pool part when counting, naming the pool', async () => {
    const pool = path.join(dir, 'p-stranger');
    mkdirSync(pool);
    writeFileSync(path.join(pool, 'part-stranger.parquet'), 'not parquet');
    await assert.rejects(
      appendPool(pool, rows('a', 1)),
      badInput(/not readable as a pool part.*nothing appended/),
    );
    assert.deepEqual(readdirSync(pool), ['part-stranger.parquet']);
  });
});
