import assert from 'node:assert/strict';
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { BIGINT, DuckDBInstance, LIST, listValue } from '@duckdb/node-api';

import { createCatalog } from '../src/core/catalog/create.js';
import { openCatalog, type Catalog } from '../src/core/catalog/open.js';
import { BadInputError, IndexCorruptionError, NotFoundError, UsageError } from '../src/core/errors.js';
import { sharedDuckDB } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const MAX_ID = (1n << 63n) - 1n;
const BEYOND_DOUBLE = (1n << 53n) + 1n;

const duckdb = sharedDuckDB();

interface Fixture {
  /** Chunk ids in file order; chunk k (1-based) has embedding [k, k + 0.5, -k, 1]. */
  chunkIds: bigint[];
  /** External ids in FAISS row order. */
  idmapIds: bigint[];
  /** Chunks whose embedding is NULL. */
  nullEmbeddingIds?: bigint[];
  /** Rename columns in the written file (canonical -> written). */
  rename?: Record<string, string>;
}

const ID_LIST = { ids: LIST(BIGINT), nulls: LIST(BIGINT) };

/** A version directory with chunks.parquet and idmap.parquet written by DuckDB itself. */
async function writeVersion(dir: string, fixture: Fixture): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const name = (column: string) => `"${(fixture.rename?.[column] ?? column).replaceAll('"', '""')}"`;
  await duckdb().run(
    `COPY (
       SELECT id AS ${name('id')}, 'src/f' || k || '.ts' AS uri, 'typescript' AS lang,
              (k * 10 + 1)::INTEGER AS start_line, (k * 10 + 10)::INTEGER AS end_line,
              'chunk ' || k AS text,
              CASE WHEN list_contains($nulls, id) THEN NULL
                   ELSE [k, k + 0.5, -k, 1]::FLOAT[] END AS ${name('embedding')}
         FROM (SELECT unnest($ids) AS id, generate_subscripts($ids, 1) AS k) ORDER BY k
     ) TO $path (FORMAT parquet)`,
    {
      ids: listValue(fixture.chunkIds),
      nulls: listValue(fixture.nullEmbeddingIds ?? []),
      path: path.join(dir, 'chunks.parquet'),
    },
    ID_LIST,
  );
  await duckdb().run(
    `COPY (SELECT (k - 1)::BIGINT AS faiss_row, id::BIGINT AS external_id
             FROM (SELECT unnest($ids) AS id, generate_subscripts($ids, 1) AS k) ORDER BY k)
       TO $path (FORMAT parquet)`,
    { ids: listValue(fixture.idmapIds), path: path.join(dir, 'idmap.parquet') },
    { ids: LIST(BIGINT) },
  );
  return dir;
}

const IDS = [0n, 1n, 42n, BEYOND_DOUBLE, 1n << 62n, MAX_ID, 7n];

async function withCatalog<T>(dir: string, fn: (catalog: Catalog) => Promise<T>): Promise<T> {
  const catalog = await openCatalog(dir);
  try {
    return await fn(catalog);
  } finally {
    catalog.close();
  }
}

async function queryAllViews(catalog: Catalog): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const view of ['chunks', 'idmap', 'v_faiss_join']) {
    const [row] = await catalog.query(`SELECT count(*) AS n FROM ${view}`);
    counts[view] = Number(row!.n);
  }
  return counts;
}

describe('createCatalog + openCatalog', () => {
  test('creates the three views and the hydration table, and nothing else without materialize', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    const created = await createCatalog(dir);
    assert.deepEqual(created, {
      path: path.join(dir, 'catalog.duckdb'),
      materialized: false,
      chunksCount: IDS.length,
      idmapCount: IDS.length,
    });
    assert.deepEqual(readdirSync(dir).sort(), ['catalog.duckdb', 'chunks.parquet', 'idmap.parquet']);
    await withCatalog(dir, async (catalog) => {
      assert.deepEqual(await catalog.structure(), {
        views: ['chunks', 'idmap', 'v_faiss_join'],
        tables: ['chunk_meta'],
        indexes: [{ name: 'chunk_meta_id', table: 'chunk_meta' }],
      });
      assert.equal(catalog.hydrationTable, 'chunk_meta');
      assert.equal(await catalog.chunksCount(), IDS.length);
      assert.equal(await catalog.idmapCount(), IDS.length);
      assert.match((await catalog.ping()).duckdbVersion, /^v\d+\.\d+/);
      assert.deepEqual(catalog.chunkColumns, [
        'id',
        'uri',
        'lang',
        'start_line',
        'end_line',
        'text',
        'embedding',
      ]);
      const joined = await catalog.query('SELECT id, faiss_row FROM v_faiss_join ORDER BY faiss_row');
      assert.deepEqual(
        joined.map((row) => [row.id, row.faiss_row]),
        IDS.map((id, row) => [id, BigInt(row)]),
      );
    });
  });

  test('the stored views hold no path', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    await withCatalog(dir, async (catalog) => {
      const views = await catalog.query('SELECT sql FROM duckdb_views() WHERE NOT internal');
      assert.equal(views.length, 3);
      for (const { sql } of views) assert.ok(!String(sql).includes(dir), String(sql));
    });
  });

  test('materialize adds faiss_idmap_mat with an index on external_id', async () => {
    const idmap = [MAX_ID, 42n, 0n];
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: idmap });
    const created = await createCatalog(dir, { materialize: true });
    assert.equal(created.materialized, true);
    await withCatalog(dir, async (catalog) => {
      const structure = await catalog.structure();
      assert.deepEqual(structure.tables, ['chunk_meta', 'faiss_idmap_mat']);
      assert.deepEqual(structure.indexes, [
        { name: 'chunk_meta_id', table: 'chunk_meta' },
        { name: 'faiss_idmap_mat_external_id', table: 'faiss_idmap_mat' },
      ]);
      const [index] = await catalog.query(
        "SELECT expressions FROM duckdb_indexes() WHERE index_name = 'faiss_idmap_mat_external_id'",
      );
      assert.match(String(index!.expressions), /external_id/);
      const rows = await catalog.query(
        'SELECT faiss_row, external_id FROM faiss_idmap_mat ORDER BY faiss_row',
      );
      assert.deepEqual(
        rows.map((row) => [row.faiss_row, row.external_id]),
        [
          [0n, MAX_ID],
          [1n, 42n],
          [2n, 0n],
        ],
      );
      const [hit] = await catalog.query('SELECT faiss_row FROM faiss_idmap_mat WHERE external_id = $id', {
        id: MAX_ID,
      });
      assert.equal(hit!.faiss_row, 0n);
    });
  });

  test('replacing a catalog leaves no temporary files', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    await createCatalog(dir, { materialize: true });
    assert.deepEqual(readdirSync(dir).sort(), ['catalog.duckdb', 'chunks.parquet', 'idmap.parquet']);
    await withCatalog(dir, async (catalog) => {
      assert.deepEqual((await catalog.structure()).tables, ['chunk_meta', 'faiss_idmap_mat']);
    });
  });

  test('column names from build flags are renamed to the canonical ones', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), {
      chunkIds: IDS,
      idmapIds: IDS,
      rename: { id: 'chunk id', embedding: 'vec"tor' },
    });
    await createCatalog(dir, { columns: { id: 'chunk id', embedding: 'vec"tor' } });
    await withCatalog(dir, async (catalog) => {
      assert.deepEqual(catalog.chunkColumns, [
        'id',
        'uri',
        'lang',
        'start_line',
        'end_line',
        'text',
        'embedding',
      ]);
      const { rows } = await catalog.hydrate([MAX_ID]);
      assert.equal(rows[0]!.faiss_row, BigInt(IDS.indexOf(MAX_ID)));
      const { found, dim } = await catalog.embeddingsByIds([MAX_ID]);
      assert.deepEqual([...found], [MAX_ID]);
      assert.equal(dim, 4);
    });
  });
});

// Through the catalog's chunk_meta table, and through the views alone (a catalog made by another tool).
for (const mode of ['chunk_meta', 'views'] as const)
  describe(`hydrate (${mode})`, () => {
    const dir = path.join(tmpDir(), 'v1');
    let catalog: Catalog;
    before(async () => {
      // Chunk 7n is not in the idmap: it hydrates with faiss_row null.
      await writeVersion(dir, { chunkIds: IDS, idmapIds: IDS.slice(0, -1) });
      await createCatalog(dir);
      if (mode === 'views') {
        const db = await DuckDBInstance.create(path.join(dir, 'catalog.duckdb'));
        const connection = await db.connect();
        await connection.run('DROP TABLE chunk_meta');
        await connection.run('CHECKPOINT');
        connection.closeSync();
        db.closeSync();
      }
      catalog = await openCatalog(dir);
      assert.equal(catalog.hydrationTable, mode === 'views' ? undefined : 'chunk_meta');
    });
    after(() => catalog.close());

    test('keeps the caller order, reports missing ids, and round-trips ids up to 2^63-1 exactly', async () => {
      const request = [MAX_ID, 5n, BEYOND_DOUBLE, 0n, MAX_ID - 1n, 42n];
      const { rows, missing } = await catalog.hydrate(request);
      assert.deepEqual(
        rows.map((row) => row.id),
        [MAX_ID, BEYOND_DOUBLE, 0n, 42n],
      );
      assert.deepEqual(missing, [5n, MAX_ID - 1n]);
      const k = IDS.indexOf(MAX_ID) + 1;
      assert.deepEqual(rows[0], {
        id: MAX_ID,
        uri: `src/f${k}.ts`,
        lang: 'typescript',
        start_line: k * 10 + 1,
        end_line: k * 10 + 10,
        faiss_row: BigInt(k - 1),
      });
    });

    test('accepts a BigInt64Array, repeats repeated ids, and returns text on request', async () => {
      const { rows, missing } = await catalog.hydrate(BigInt64Array.from([42n, 42n, -1n, 7n]), {
        text: true,
      });
      assert.deepEqual(
        rows.map((row) => [row.id, row.text, row.faiss_row]),
        [
          [42n, 'chunk 3', 2n],
          [42n, 'chunk 3', 2n],
          [7n, 'chunk 7', null],
        ],
      );
      assert.notEqual(rows[0], rows[1]);
      assert.deepEqual(missing, [-1n]);
    });

    test('an empty request needs no query', async () => {
      assert.deepEqual(await catalog.hydrate([]), { rows: [], missing: [] });
    });

    test('refuses ids that are not 64-bit integers', async () => {
      await assert.rejects(catalog.hydrate([1n << 63n]), BadInputError);
      await assert.rejects(catalog.hydrate([1 as unknown as bigint]), BadInputError);
    });

    test('embeddingsByIds returns one contiguous Float32Array in the caller order', async () => {
      const { vectors, found, missing, dim } = await catalog.embeddingsByIds([MAX_ID, 99n, 0n, MAX_ID]);
      assert.equal(dim, 4);
      assert.deepEqual([...found], [MAX_ID, 0n, MAX_ID]);
      assert.deepEqual(missing, [99n]);
      const k = IDS.indexOf(MAX_ID) + 1;
      assert.deepEqual([...vectors], [k, k + 0.5, -k, 1, 1, 1.5, -1, 1, k, k + 0.5, -k, 1]);
    });

    test('embeddingsByIds with nothing found', async () => {
      const result = await catalog.embeddingsByIds([99n]);
      assert.equal(result.vectors.length, 0);
      assert.equal(result.found.length, 0);
      assert.equal(result.dim, 0);
      assert.deepEqual(result.missing, [99n]);
    });

    test('a closed catalog refuses queries', async () => {
      const other = await openCatalog(dir);
      other.close();
      other.close();
      await assert.rejects(other.hydrate([1n]), UsageError);
    });
  });

describe('hydrate at scale', () => {
  test('thousands of ids in one call, in order', async () => {
    const chunkIds = Array.from({ length: 20_000 }, (_, i) => MAX_ID - BigInt(i) * 1_000_003n);
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds, idmapIds: chunkIds });
    await createCatalog(dir);
    await withCatalog(dir, async (catalog) => {
      const request = chunkIds.filter((_, i) => i % 5 === 0).reverse();
      request.splice(100, 0, 3n);
      const { rows, missing } = await catalog.hydrate(request);
      assert.deepEqual(missing, [3n]);
      assert.deepEqual(
        rows.map((row) => row.id),
        request.filter((id) => id !== 3n),
      );
      for (const row of rows) assert.equal(row.faiss_row, BigInt(chunkIds.indexOf(row.id)));
      const { found, vectors } = await catalog.embeddingsByIds(request);
      assert.equal(found.length, request.length - 1);
      assert.equal(vectors.length, found.length * 4);
    });
  });
});

describe('coverage', () => {
  test('counts both directions and lists the smallest offending ids', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), {
      chunkIds: [1n, 2n, 3n, 4n, 5n, MAX_ID],
      // 4n has no embedding: it is not expected in the idmap.
      nullEmbeddingIds: [4n],
      idmapIds: [1n, 900n, 2n, 800n, MAX_ID - 1n],
    });
    await createCatalog(dir);
    await withCatalog(dir, async (catalog) => {
      assert.deepEqual(await catalog.coverage(), {
        idmapNotInChunks: { count: 3, first: [800n, 900n, MAX_ID - 1n] },
        chunksNotInIdmap: { count: 3, first: [3n, 5n, MAX_ID] },
      });
      assert.deepEqual(await catalog.coverage({ limit: 1 }), {
        idmapNotInChunks: { count: 3, first: [800n] },
        chunksNotInIdmap: { count: 3, first: [3n] },
      });
      await assert.rejects(catalog.coverage({ limit: 0 }), UsageError);
      const { missing, found } = await catalog.embeddingsByIds([4n, 5n]);
      assert.deepEqual(missing, [4n]);
      assert.deepEqual([...found], [5n]);
    });
  });

  test('a consistent version has full coverage', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), {
      chunkIds: IDS,
      idmapIds: [...IDS].reverse(),
    });
    await createCatalog(dir);
    await withCatalog(dir, async (catalog) => {
      assert.deepEqual(await catalog.coverage(), {
        idmapNotInChunks: { count: 0, first: [] },
        chunksNotInIdmap: { count: 0, first: [] },
      });
    });
  });
});

describe('relocation', () => {
  test('a moved root keeps working, even from a directory holding another chunks.parquet', async () => {
    const base = tmpDir();
    const dir = await writeVersion(path.join(base, 'old-root', 'versions', 'v1'), {
      chunkIds: IDS,
      idmapIds: IDS,
    });
    await createCatalog(dir, { materialize: true });
    renameSync(path.join(base, 'old-root'), path.join(base, 'new-root'));
    const moved = path.join(base, 'new-root', 'versions', 'v1');
    // A decoy in the working directory: a catalog resolving relative paths there would read it.
    const decoy = await writeVersion(path.join(base, 'decoy'), { chunkIds: [5n], idmapIds: [5n] });
    const cwd = process.cwd();
    process.chdir(decoy);
    try {
      await withCatalog(moved, async (catalog) => {
        assert.deepEqual(await queryAllViews(catalog), { chunks: 7, idmap: 7, v_faiss_join: 7 });
        const { rows, missing } = await catalog.hydrate([MAX_ID, 5n]);
        assert.deepEqual(
          rows.map((row) => row.id),
          [MAX_ID],
        );
        assert.deepEqual(missing, [5n]);
      });
    } finally {
      process.chdir(cwd);
    }
  });

  test('a copied root reads its own files after the original is gone', async () => {
    const base = tmpDir();
    const dir = await writeVersion(path.join(base, 'a', 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    cpSync(path.join(base, 'a'), path.join(base, 'b'), { recursive: true });
    rmSync(path.join(base, 'a'), { recursive: true });
    await withCatalog(path.join(base, 'b', 'v1'), async (catalog) => {
      assert.deepEqual(await queryAllViews(catalog), { chunks: 7, idmap: 7, v_faiss_join: 7 });
      assert.deepEqual(await catalog.coverage(), {
        idmapNotInChunks: { count: 0, first: [] },
        chunksNotInIdmap: { count: 0, first: [] },
      });
    });
  });

  for (const name of [
    "it's",
    'comma,dir',
    'sp ace',
    'star*',
    'br[ack]',
    'semi;--',
    'dollar$1',
    'back\\slash',
  ]) {
    test(`a root under ${JSON.stringify(name)} is neither spliced nor globbed`, async () => {
      const base = tmpDir();
      const dir = await writeVersion(path.join(base, name, 'v1'), { chunkIds: IDS, idmapIds: IDS });
      // A sibling a glob of the name would also match (star* -> starX, br[ack] -> bra).
      const sibling = name.replace('*', 'X').replace('[ack]', 'a');
      if (sibling !== name)
        await writeVersion(path.join(base, sibling, 'v1'), { chunkIds: [5n], idmapIds: [5n] });
      await createCatalog(dir);
      await withCatalog(dir, async (catalog) => {
        assert.deepEqual(await queryAllViews(catalog), { chunks: 7, idmap: 7, v_faiss_join: 7 });
        assert.deepEqual((await catalog.hydrate([MAX_ID])).rows[0]!.id, MAX_ID);
      });
    });
  }

  test('paths DuckDB cannot express are refused with a usage error', async () => {
    const base = tmpDir();
    const question = await writeVersion(path.join(base, 'what?', 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await assert.rejects(createCatalog(question), UsageError);
    await assert.rejects(openCatalog(question), UsageError);
    const mixed = await writeVersion(path.join(base, 'a\\b*', 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await assert.rejects(createCatalog(mixed), /backslash/);
    assert.deepEqual(readdirSync(question).sort(), ['chunks.parquet', 'idmap.parquet']);
  });
});

describe('read-only', () => {
  test('writes through the handle fail and the files stay untouched', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    const file = path.join(dir, 'catalog.duckdb');
    const before = readFileSync(file);
    const mtime = statSync(file).mtimeMs;
    await withCatalog(dir, async (catalog) => {
      await assert.rejects(catalog.query('CREATE TABLE t (a INTEGER)'), /read-only/);
      await assert.rejects(catalog.query('DROP VIEW chunks'), /read-only/);
      await catalog.hydrate(IDS);
      await catalog.coverage();
    });
    assert.deepEqual(readFileSync(file), before);
    assert.equal(statSync(file).mtimeMs, mtime);
    assert.deepEqual(readdirSync(dir).sort(), ['catalog.duckdb', 'chunks.parquet', 'idmap.parquet']);
  });

  test('two read-only handles on one catalog work side by side', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    const a = await openCatalog(dir);
    const b = await openCatalog(dir);
    try {
      const [ra, rb] = await Promise.all([a.hydrate([0n]), b.hydrate([MAX_ID])]);
      assert.equal(ra.rows[0]!.id, 0n);
      assert.equal(rb.rows[0]!.id, MAX_ID);
    } finally {
      a.close();
      b.close();
    }
  });
});

describe('bad input', () => {
  test('createCatalog without its Parquet files is a not-found error naming the file', async () => {
    const dir = tmpDir();
    await assert.rejects(createCatalog(dir), (err: Error) => {
      assert.ok(err instanceof NotFoundError);
      assert.match(err.message, /chunks\.parquet/);
      return true;
    });
  });

  test('a chunks file that is not Parquet is bad input naming the file', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    writeFileSync(path.join(dir, 'chunks.parquet'), 'id,uri\n1,a\n');
    await assert.rejects(createCatalog(dir), (err: Error) => {
      assert.ok(err instanceof BadInputError);
      assert.match(err.message, /chunks\.parquet: not readable as Parquet/);
      return true;
    });
    assert.ok(!existsSync(path.join(dir, 'catalog.duckdb')));
    assert.deepEqual(readdirSync(dir).sort(), ['chunks.parquet', 'idmap.parquet']);
  });

  test('missing columns are bad input naming them', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), {
      chunkIds: IDS,
      idmapIds: IDS,
      rename: { embedding: 'vector' },
    });
    await assert.rejects(createCatalog(dir), /chunks\.parquet: missing column embedding/);
    await assert.rejects(createCatalog(dir, { columns: { embedding: 'vec' } }), /missing column vec/);
    await assert.rejects(
      createCatalog(dir, { columns: { embedding: 'vector', uri: 'text' } }),
      /column uri already exists/,
    );
    await duckdb().run(`COPY (SELECT 1::BIGINT AS faiss_row) TO $path (FORMAT parquet)`, {
      path: path.join(dir, 'idmap.parquet'),
    });
    await assert.rejects(createCatalog(dir, { columns: { embedding: 'vector' } }), (err: Error) => {
      assert.ok(err instanceof BadInputError);
      assert.match(err.message, /idmap\.parquet: missing column external_id/);
      return true;
    });
  });

  test('openCatalog: missing catalog is not found; garbage is corruption', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await assert.rejects(openCatalog(dir), NotFoundError);
    await assert.rejects(openCatalog(path.join(dir, 'nope')), NotFoundError);
    writeFileSync(path.join(dir, 'catalog.duckdb'), Buffer.alloc(8192, 7));
    await assert.rejects(openCatalog(dir), (err: Error) => {
      assert.ok(err instanceof IndexCorruptionError);
      assert.match(err.message, /catalog\.duckdb: cannot open as a DuckDB database/);
      return true;
    });
  });

  test('openCatalog: a Parquet file replaced by garbage is corruption naming the view', async () => {
    const dir = await writeVersion(path.join(tmpDir(), 'v1'), { chunkIds: IDS, idmapIds: IDS });
    await createCatalog(dir);
    writeFileSync(path.join(dir, 'idmap.parquet'), 'not parquet');
    await assert.rejects(openCatalog(dir), (err: Error) => {
      assert.ok(err instanceof IndexCorruptionError);
      assert.match(err.message, /view idmap does not resolve/);
      return true;
    });
    rmSync(path.join(dir, 'idmap.parquet'));
    await assert.rejects(openCatalog(dir), /idmap\.parquet: not found/);
  });
});
