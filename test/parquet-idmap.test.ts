import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { IndexCorruptionError } from '../src/core/errors.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeIdMap } from '../src/core/parquet/idmap-writer.js';
import { copyToParquet, duckdbRows } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-parquet-idmap-');
const MAX = (1n << 63n) - 1n;
const MIN = -(1n << 63n);

/** Ids spread over the whole int64 range, so any Number conversion would show. */
function spreadIds(n: number): BigInt64Array {
  return BigInt64Array.from({ length: n }, (_, i) =>
    i === 0 ? MAX : i === 1 ? 0n : MAX - BigInt(i) * 1_000_003n,
  );
}

describe('idmap.parquet', () => {
  it('round-trips faiss_row 0..n-1 and int64 external ids exactly, across row groups', async () => {
    const file = path.join(dir, 'idmap.parquet');
    const ids = spreadIds(2500);
    await writeIdMap(file, ids, { rowGroupRows: 1000 });
    const back = await readIdMap(file);
    assert.deepEqual(back.externalId, ids);
    assert.deepEqual(
      back.faissRow,
      BigInt64Array.from({ length: 2500 }, (_, i) => BigInt(i)),
    );
  });

  it('keeps any int64, including the extremes', async () => {
    const file = path.join(dir, 'extremes.parquet');
    const ids = BigInt64Array.from([MIN, -1n, 0n, 1n, MAX]);
    await writeIdMap(file, ids);
    assert.deepEqual((await readIdMap(file)).externalId, ids);
  });

  it('is readable by DuckDB with both columns as BIGINT, in row order', async () => {
    const file = path.join(dir, 'duckdb.parquet');
    const ids = spreadIds(3000);
    await writeIdMap(file, ids, { rowGroupRows: 1024 });
    const types = await duckdbRows(
      'SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet($1))',
      [file],
    );
    assert.deepEqual(types, [
      ['faiss_row', 'BIGINT'],
      ['external_id', 'BIGINT'],
    ]);
    const rows = await duckdbRows('SELECT faiss_row, external_id FROM read_parquet($1)', [file]);
    assert.equal(rows.length, 3000);
    rows.forEach(([row, id], i) => {
      assert.equal(row, BigInt(i));
      assert.equal(id, ids[i]);
    });
    const groups = await duckdbRows('SELECT count(DISTINCT row_group_id) FROM parquet_metadata($1)', [file]);
    assert.equal(groups[0]![0], 3n);
  });

  it('writes an empty idmap that still carries the schema', async () => {
    const file = path.join(dir, 'empty.parquet');
    await writeIdMap(file, new BigInt64Array(0));
    const back = await readIdMap(file);
    assert.equal(back.faissRow.length, 0);
    assert.equal(back.externalId.length, 0);
    assert.deepEqual(await duckdbRows('SELECT count(*) FROM read_parquet($1)', [file]), [[0n]]);
  });

  it('reports a file that is not an idmap as corruption', async () => {
    const text = path.join(dir, 'text.parquet');
    writeFileSync(text, 'faiss_row,external_id\n0,1\n');
    await assert.rejects(
      readIdMap(text),
      (err: unknown) => err instanceof IndexCorruptionError && err.message.includes(text),
    );

    const good = path.join(dir, 'good.parquet');
    await writeIdMap(good, spreadIds(100));
    const bytes = readFileSync(good);
    const truncated = path.join(dir, 'truncated.parquet');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 20));
    await assert.rejects(readIdMap(truncated), IndexCorruptionError);

    const other = path.join(dir, 'other.parquet');
    await copyToParquet(other, 'SELECT i AS faiss_row, i AS id FROM range(10) t(i)');
    await assert.rejects(readIdMap(other), {
      name: 'IndexCorruptionError',
      message: /no column "external_id" \(columns: faiss_row, id\)/,
    });

    const wrongType = path.join(dir, 'wrong-type.parquet');
    await copyToParquet(wrongType, 'SELECT i::INTEGER AS faiss_row, i AS external_id FROM range(10) t(i)');
    await assert.rejects(readIdMap(wrongType), {
      name: 'IndexCorruptionError',
      message: /"faiss_row" has type INTEGER, expected Int64/,
    });
  });
});

describe('readIdMap on damaged bytes', () => {
  it('reports every damaged page as corruption instead of ending the process', async () => {
    // parquet-wasm panicked inside its async reader on some of these (found by the mutation test:
    // "RuntimeError: unreachable" from a microtask, exit 1); each is now an IndexCorruptionError.
    const dir = tmpDir();
    const good = path.join(dir, 'good.parquet');
    await writeIdMap(good, spreadIds(2000));
    const bytes = readFileSync(good);
    for (let at = 4; at < bytes.length - 8; at += 97) {
      const damaged = Buffer.from(bytes);
      damaged.writeInt32LE(-1, at);
      const file = path.join(dir, `damaged-${at}.parquet`);
      writeFileSync(file, damaged);
      try {
        await readIdMap(file);
      } catch (err) {
        assert.ok(err instanceof IndexCorruptionError, `offset ${at}: ${String(err)}`);
      }
    }
  });
});
