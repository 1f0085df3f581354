import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import * as arrow from 'apache-arrow';
import { Compression, Table as WasmTable, WriterPropertiesBuilder, writeParquet } from 'parquet-wasm';

import { BadInputError, UsageError } from '../src/core/errors.js';
import { openChunks, readAllChunks, type ChunksOptions } from '../src/core/parquet/chunks-reader.js';
import { normalizeL2 } from '../src/core/parquet/cosine.js';
import { copyToParquet, duckdbRows } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-parquet-chunks-');
const MAX = (1n << 63n) - 1n;

/** The value every fixture stores at (row i, column j): exact in float32. */
const value = (i: number, j: number): number => ((i * 31 + j * 7) % 1000) / 8;
const vecSql = (d: number): string =>
  `list_transform(range(${d}), j -> (((i * 31 + j * 7) % 1000) / 8)::FLOAT)`;

interface Fixture {
  n: number;
  d?: number;
  id?: string;
  embedding?: string;
  rowGroupSize?: number;
  /** Column names in the file. */
  names?: { id: string; embedding: string };
}

let counter = 0;
async function fixture(f: Fixture): Promise<string> {
  const d = f.d ?? 8;
  const file = path.join(dir, `chunks-${++counter}.parquet`);
  const names = f.names ?? { id: 'id', embedding: 'embedding' };
  await copyToParquet(
    file,
    `SELECT ${f.id ?? 'i'} AS "${names.id}", ${f.embedding ?? vecSql(d)} AS "${names.embedding}", 'src/f' || i || '.ts' AS uri
       FROM range(${f.n}) t(i)`,
    f.rowGroupSize,
  );
  return file;
}

function expectedVectors(n: number, d: number): Float32Array {
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = value(i, j);
  return out;
}

/** Asserts a BadInputError (exit 5) whose message contains every fragment. */
async function rejectsBadInput(promise: Promise<unknown>, ...fragments: string[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof BadInputError, `expected BadInputError, got ${String(err)}`);
    assert.equal(err.exitCode, 5);
    for (const fragment of fragments) {
      assert.ok(err.message.includes(fragment), `message lacks ${JSON.stringify(fragment)}:\n${err.message}`);
    }
    return true;
  });
}

/** A FixedSizeList<Float32> file written by apache-arrow + parquet-wasm, as a Rust/Python pipeline would. */
function writeFixedSizeList(
  file: string,
  ids: BigInt64Array,
  vectors: Float32Array,
  d: number,
  groupRows: number,
): void {
  const n = ids.length;
  const item = new arrow.Field('item', new arrow.Float32(), false);
  const child = arrow.makeData({ type: new arrow.Float32(), length: n * d, nullCount: 0, data: vectors });
  const table = new arrow.Table({
    id: arrow.makeVector(arrow.makeData({ type: new arrow.Int64(), length: n, nullCount: 0, data: ids })),
    embedding: arrow.makeVector(
      arrow.makeData({ type: new arrow.FixedSizeList(d, item), length: n, nullCount: 0, child }),
    ),
  });
  assert.equal(String(table.schema.fields[1]!.type), 'FixedSizeList[8]<Float32>');
  const props = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setMaxRowGroupSize(groupRows)
    .build();
  writeFileSync(file, writeParquet(WasmTable.fromIPCStream(arrow.tableToIPC(table, 'stream')), props));
}

describe('chunks Parquet: reading', () => {
  it('reads a DuckDB List<Float32> file with several row groups in row order, exactly', async () => {
    const n = 5000;
    const file = await fixture({ n, rowGroupSize: 2048 });
    const reader = await openChunks(file);
    try {
      assert.equal(reader.file, file);
      assert.equal(reader.rows, n);
      assert.equal(reader.dim, 8);
      assert.ok(reader.rowGroups >= 2, `expected several row groups, got ${reader.rowGroups}`);
      assert.deepEqual(
        reader.columns.map((c) => `${c.name} ${c.type}`),
        ['id BIGINT', 'embedding FLOAT[]', 'uri VARCHAR'],
      );
    } finally {
      reader.close();
    }
    const all = await readAllChunks(file);
    assert.deepEqual(
      all.ids,
      BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
    );
    assert.deepEqual(all.vectors, expectedVectors(n, 8));
  });

  it('reads a FixedSizeList<Float32> file written by apache-arrow + parquet-wasm', async () => {
    const n = 2500;
    const d = 8;
    const file = path.join(dir, 'fixed-size-list.parquet');
    const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 1000n + 1n);
    const vectors = expectedVectors(n, d);
    writeFixedSizeList(file, ids, vectors, d, 1000);
    const reader = await openChunks(file);
    assert.equal(reader.rowGroups, 3);
    reader.close();
    const all = await readAllChunks(file, { dim: d });
    assert.equal(all.dim, d);
    assert.deepEqual(all.ids, ids);
    assert.deepEqual(all.vectors, vectors);
  });

  it('reads a DuckDB FLOAT[d] array column the same way', async () => {
    const file = await fixture({ n: 300, embedding: `${vecSql(8)}::FLOAT[8]` });
    const all = await readAllChunks(file);
    assert.deepEqual(all.vectors, expectedVectors(300, 8));
  });

  it('round-trips ids up to 2^63-1 exactly', async () => {
    const n = 3000;
    const file = await fixture({ n, id: '9223372036854775807 - i', rowGroupSize: 2048 });
    const all = await readAllChunks(file);
    assert.equal(all.ids[0], MAX);
    assert.equal(all.ids[n - 1], MAX - BigInt(n - 1));
    assert.deepEqual(
      all.ids,
      BigInt64Array.from({ length: n }, (_, i) => MAX - BigInt(i)),
    );
  });

  it('accepts narrower integer id columns', async () => {
    const file = await fixture({ n: 50, id: 'i::INTEGER' });
    const all = await readAllChunks(file);
    assert.equal(all.ids[49], 49n);
  });

  it('streams batches of the requested size with row offsets that add up to the file', async () => {
    const n = 5000;
    const file = await fixture({ n, rowGroupSize: 2048 });
    const reader = await openChunks(file);
    try {
      const seen: { rowOffset: number; rows: number }[] = [];
      const ids = new BigInt64Array(n);
      const vectors = new Float32Array(n * 8);
      for await (const batch of reader.batches({ batchRows: 1500 })) {
        seen.push({ rowOffset: batch.rowOffset, rows: batch.rows });
        assert.equal(batch.ids.length, batch.rows);
        assert.equal(batch.vectors.length, batch.rows * 8);
        ids.set(batch.ids, batch.rowOffset);
        vectors.set(batch.vectors, batch.rowOffset * 8);
      }
      assert.deepEqual(seen, [
        { rowOffset: 0, rows: 1500 },
        { rowOffset: 1500, rows: 1500 },
        { rowOffset: 3000, rows: 1500 },
        { rowOffset: 4500, rows: 500 },
      ]);
      assert.deepEqual(vectors, expectedVectors(n, 8));
      assert.equal(ids[4999], 4999n);

      // A second pass starts over; by default a batch is one row group.
      let rows = 0;
      let batches = 0;
      for await (const batch of reader.batches()) {
        assert.equal(batch.rowOffset, rows);
        rows += batch.rows;
        batches++;
      }
      assert.equal(rows, n);
      assert.equal(batches, 3);
    } finally {
      reader.close();
    }
  });

  it('stops cleanly when the consumer breaks out of a pass', async () => {
    const file = await fixture({ n: 5000, rowGroupSize: 2048 });
    const reader = await openChunks(file);
    for await (const batch of reader.batches({ batchRows: 100 })) {
      assert.equal(batch.rowOffset, 0);
      break;
    }
    const again = new BigInt64Array(5000);
    await reader.readInto(again, new Float32Array(5000 * 8));
    assert.equal(again[4999], 4999n);
    reader.close();
    await assert.rejects(reader.readInto(again, new Float32Array(5000 * 8)), UsageError);
  });

  it('takes configurable column names', async () => {
    const file = await fixture({ n: 100, names: { id: 'chunk_id', embedding: 'vec' } });
    const all = await readAllChunks(file, { idColumn: 'chunk_id', embeddingColumn: 'vec' });
    assert.equal(all.rows, 100);
    assert.deepEqual(all.vectors, expectedVectors(100, 8));
    await assert.rejects(openChunks(file, { idColumn: 'vec', embeddingColumn: 'vec' }), UsageError);
  });

  it('reads a file whose name holds glob characters literally', async () => {
    const sub = path.join(dir, 'odd [dir]*');
    mkdirSync(sub);
    const file = path.join(sub, 'chunks?[1].parquet');
    writeFileSync(file, readFileSync(await fixture({ n: 10 })));
    const all = await readAllChunks(file);
    assert.equal(all.rows, 10);
  });

  it('L2-normalizes for cosine while copying, in readAllChunks and in batches', async () => {
    const file = await fixture({ n: 3000, rowGroupSize: 2048 });
    const all = await readAllChunks(file, { normalize: true });
    const raw = expectedVectors(3000, 8);
    const manual = new Float32Array(raw);
    normalizeL2(manual, 8, all.ids);
    assert.deepEqual(all.vectors, manual);
    for (let i = 0; i < 3000; i += 997) {
      const row = all.vectors.subarray(i * 8, (i + 1) * 8);
      assert.ok(Math.abs(row.reduce((s, x) => s + x * x, 0) - 1) < 1e-5);
    }
    const reader = await openChunks(file, { normalize: true });
    const streamed = new Float32Array(3000 * 8);
    for await (const batch of reader.batches({ batchRows: 700 }))
      streamed.set(batch.vectors, batch.rowOffset * 8);
    reader.close();
    assert.deepEqual(streamed, manual);
  });
});

describe('chunks Parquet: bad input (BadInputError, exit 5)', () => {
  it('refuses a file that is not Parquet, a truncated one, a missing one and a directory', async () => {
    const text = path.join(dir, 'not-parquet.parquet');
    writeFileSync(text, 'id,embedding\n1,"[0.1, 0.2]"\n');
    await rejectsBadInput(openChunks(text), text, 'not a Parquet file', 'PAR1');

    const good = readFileSync(await fixture({ n: 10 }));
    const truncated = path.join(dir, 'truncated.parquet');
    writeFileSync(truncated, good.subarray(0, good.length - 100));
    await rejectsBadInput(openChunks(truncated), truncated, 'not a Parquet file', 'truncated');

    const tiny = path.join(dir, 'tiny.parquet');
    writeFileSync(tiny, 'PAR1');
    await rejectsBadInput(openChunks(tiny), tiny, 'not a Parquet file');

    // Right magic at both ends, garbage in between: DuckDB's own complaint comes through.
    const garbage = path.join(dir, 'garbage.parquet');
    writeFileSync(garbage, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(64, 7), Buffer.from('PAR1')]));
    await rejectsBadInput(openChunks(garbage), garbage, 'cannot be read as Parquet');

    const missing = path.join(dir, 'no-such.parquet');
    await rejectsBadInput(openChunks(missing), missing, 'does not exist');
    await rejectsBadInput(openChunks(dir), dir, 'not a regular file');
  });

  it('refuses a file whose data pages are corrupt, passing on what DuckDB found', async () => {
    const file = await fixture({ n: 5000, rowGroupSize: 2048 });
    const chunks = await duckdbRows(
      `SELECT data_page_offset, total_compressed_size FROM parquet_metadata($1)
        WHERE path_in_schema LIKE 'embedding%' ORDER BY row_group_id DESC LIMIT 1`,
      [file],
    );
    const [offset, size] = chunks[0]!.map(Number) as [number, number];
    const bytes = readFileSync(file);
    bytes.fill(0xff, offset + 40, offset + size - 10);
    writeFileSync(file, bytes);
    await rejectsBadInput(readAllChunks(file), file, 'cannot be read', 'Snappy decompression failure');
  });

  it('refuses an empty file', async () => {
    const file = await fixture({ n: 0 });
    await rejectsBadInput(readAllChunks(file), file, 'no rows');
  });

  it('refuses a missing column and lists the columns that exist', async () => {
    const file = await fixture({ n: 10 });
    await rejectsBadInput(
      openChunks(file, { embeddingColumn: 'vector' }),
      file,
      'missing column "vector"',
      'id (BIGINT), embedding (FLOAT[]), uri (VARCHAR)',
    );
    await rejectsBadInput(openChunks(file, { idColumn: 'chunk_id' }), file, 'missing column "chunk_id"');
  });

  it('refuses wrong types and says which type it found', async () => {
    const idText = await fixture({ n: 10, id: "'c' || i" });
    await rejectsBadInput(openChunks(idText), idText, 'column "id" has type VARCHAR');
    const idUnsigned = await fixture({ n: 10, id: 'i::UBIGINT' });
    await rejectsBadInput(openChunks(idUnsigned), idUnsigned, 'column "id" has type UBIGINT');
    const doubles = await fixture({ n: 10, embedding: 'list_transform(range(8), j -> j::DOUBLE)' });
    await rejectsBadInput(
      openChunks(doubles),
      doubles,
      'column "embedding" has type DOUBLE[]',
      'List<Float32>',
    );
    const text = await fixture({ n: 10, embedding: "'[1, 2]'" });
    await rejectsBadInput(openChunks(text), text, 'column "embedding" has type VARCHAR');
  });

  it('refuses mixed dimensions, naming the ids, the count and the lengths found', async () => {
    const file = await fixture({
      n: 5000,
      rowGroupSize: 2048,
      embedding: `CASE WHEN i IN (10, 2500, 4100) THEN list_transform(range(7), j -> 1::FLOAT) ELSE ${vecSql(8)} END`,
    });
    await rejectsBadInput(
      readAllChunks(file),
      file,
      'column "embedding"',
      "3 rows have a length other than 8, the first row's",
      'found 7',
      'first ids: 10, 2500, 4100',
    );
  });

  it('refuses a zero dimension', async () => {
    const file = await fixture({ n: 10, embedding: '[]::FLOAT[]' });
    await rejectsBadInput(openChunks(file), file, 'column "embedding"', 'zero dimension');
  });

  it('refuses a dimension other than the expected one', async () => {
    const file = await fixture({ n: 10 });
    await rejectsBadInput(
      openChunks(file, { dim: 16 }),
      file,
      'column "embedding" has dimension 8',
      'expected 16',
    );
    assert.equal((await readAllChunks(file, { dim: 8 })).dim, 8);
  });

  it('refuses NaN and Inf across the whole file, with the first ids and the count', async () => {
    const bad = `CASE WHEN i IN (5, 2100, 4200) THEN list_transform(range(8), j -> CASE WHEN j = 3 THEN
      (CASE WHEN i = 5 THEN 'nan' WHEN i = 2100 THEN 'inf' ELSE '-inf' END)::FLOAT ELSE 1::FLOAT END) ELSE ${vecSql(8)} END`;
    const file = await fixture({ n: 5000, rowGroupSize: 2048, id: 'i * 10', embedding: bad });
    await rejectsBadInput(
      readAllChunks(file),
      file,
      'column "embedding"',
      '3 rows have NaN or Inf values',
      'first ids: 50, 21000, 42000',
    );

    const many = await fixture({
      n: 3000,
      embedding: `CASE WHEN i % 100 = 1 THEN [1, 'nan'::FLOAT, 2, 3, 4, 5, 6, 7] ELSE ${vecSql(8)} END`,
    });
    await rejectsBadInput(
      readAllChunks(many),
      many,
      '30 rows have NaN or Inf values',
      'first ids: 1, 101, 201, 301, 401, ... 25 more',
    );
  });

  it('hands out no batch after a bad row, and still counts the rest of the file', async () => {
    const file = await fixture({
      n: 5000,
      rowGroupSize: 2048,
      embedding: `CASE WHEN i IN (4500, 4999) THEN [1, 'inf'::FLOAT, 2, 3, 4, 5, 6, 7] ELSE ${vecSql(8)} END`,
    });
    const reader = await openChunks(file);
    const offsets: number[] = [];
    await rejectsBadInput(
      (async () => {
        for await (const batch of reader.batches({ batchRows: 1000 })) offsets.push(batch.rowOffset);
      })(),
      '2 rows have NaN or Inf values',
      'first ids: 4500, 4999',
    );
    reader.close();
    assert.deepEqual(offsets, [0, 1000, 2000, 3000]);
  });

  it('refuses null ids, naming the row numbers and the count', async () => {
    const file = await fixture({
      n: 5000,
      rowGroupSize: 2048,
      id: 'CASE WHEN i IN (7, 3000) THEN NULL ELSE i END',
    });
    await rejectsBadInput(
      openChunks(file),
      file,
      'column "id"',
      '2 rows have a null id',
      'first rows, 0-based: 7, 3000',
    );
  });

  it('refuses negative ids', async () => {
    const file = await fixture({ n: 100, id: 'CASE WHEN i IN (1, 2) THEN -i ELSE i END' });
    await rejectsBadInput(
      openChunks(file),
      file,
      'column "id"',
      '2 rows have negative ids',
      'first ids: -1, -2',
    );
  });

  it('refuses duplicate ids across the whole file, with examples and counts', async () => {
    const file = await fixture({
      n: 5000,
      rowGroupSize: 2048,
      id: 'CASE WHEN i IN (4500, 4600) THEN 3 WHEN i = 2200 THEN 9 ELSE i END',
    });
    await rejectsBadInput(
      openChunks(file),
      file,
      'column "id"',
      '2 ids occur more than once',
      '3 extra rows',
      'first: 3 (3 rows), 9 (2 rows)',
    );
  });

  it('refuses null embeddings', async () => {
    const file = await fixture({
      n: 5000,
      rowGroupSize: 2048,
      embedding: `CASE WHEN i IN (2, 2049) THEN NULL ELSE ${vecSql(8)} END`,
    });
    await rejectsBadInput(
      readAllChunks(file),
      file,
      'column "embedding"',
      '2 rows have null embeddings',
      'first ids: 2, 2049',
    );
    const allNull = await fixture({ n: 10, embedding: 'NULL::FLOAT[]' });
    await rejectsBadInput(openChunks(allNull), allNull, 'every embedding is null');
  });

  it('refuses null values inside an embedding', async () => {
    const file = await fixture({
      n: 100,
      embedding: `CASE WHEN i = 6 THEN [1, NULL, 2, 3, 4, 5, 6, 7]::FLOAT[] ELSE ${vecSql(8)} END`,
    });
    await rejectsBadInput(
      readAllChunks(file),
      file,
      '1 row has null values inside the embedding',
      'first ids: 6',
    );
  });

  it('reports every kind of bad row found in one pass', async () => {
    const file = await fixture({
      n: 100,
      embedding: `CASE WHEN i = 3 THEN NULL WHEN i = 4 THEN [1, 'nan'::FLOAT, 2, 3, 4, 5, 6, 7] ELSE ${vecSql(8)} END`,
    });
    await rejectsBadInput(
      readAllChunks(file),
      '1 row has a null embedding (first ids: 3)',
      '1 row has NaN or Inf values (first ids: 4)',
    );
  });

  it('refuses all-zero vectors under normalize (cosine), with ids and count', async () => {
    const file = await fixture({
      n: 3000,
      rowGroupSize: 2048,
      embedding: `CASE WHEN i IN (0, 2999) THEN list_transform(range(8), j -> 0::FLOAT) ELSE ${vecSql(8)} END`,
    });
    assert.equal((await readAllChunks(file)).rows, 3000);
    await rejectsBadInput(
      readAllChunks(file, { normalize: true } satisfies ChunksOptions),
      file,
      '2 rows have an all-zero embedding',
      'first ids: 0, 2999',
    );
  });
});

describe('normalizeL2', () => {
  it('normalizes rows to unit length in place', () => {
    const v = new Float32Array([3, 4, 0, 2]);
    normalizeL2(v, 2, BigInt64Array.from([1n, 2n]));
    assert.deepEqual(v, Float32Array.from([0.6, 0.8, 0, 1]));
  });

  it('refuses zero and non-finite vectors, naming ids and count, without touching the input', () => {
    const zero = new Float32Array([3, 4, 0, 0, 0, 0]);
    assert.throws(
      () => normalizeL2(zero, 2, BigInt64Array.from([7n, 8n, 9n]), 'queries.parquet'),
      (err: unknown) =>
        err instanceof BadInputError &&
        err.message ===
          'queries.parquet: 2 vectors are all zero and cannot be normalized for cosine (first ids: 8, 9)',
    );
    assert.deepEqual(zero, Float32Array.from([3, 4, 0, 0, 0, 0]));
    assert.throws(() => normalizeL2(Float32Array.from([1, NaN]), 2, BigInt64Array.from([5n])), {
      name: 'BadInputError',
      message: /1 vector has NaN or Inf values \(first ids: 5\)/,
    });
    assert.throws(() => normalizeL2(new Float32Array(3), 2, new BigInt64Array(1)), RangeError);
  });
});
