/** Query vector files (.npy, raw float32, Parquet): formats, every refused input (pools: pool.test.ts). */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { BadInputError } from '../src/core/errors.js';
import { readQueryVectors } from '../src/core/search/query-file.js';
import { copyToParquet } from './helpers/duckdb-parquet.js';
import { runPython, writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const D = 4;
const file = (name: string) => path.join(dir, name);

/** Writes arrays with numpy itself, so the .npy headers are the real thing. */
function npSave(name: string, expr: string): string {
  const out = file(name);
  runPython(`import sys, json, numpy as np\nnp.save(sys.argv[1], ${expr})\nprint('{}')`, [out]);
  return out;
}

const badInput = (pattern: RegExp) => (e: Error) => e instanceof BadInputError && pattern.test(e.message);

describe('readQueryVectors', () => {
  it('reads .npy float32 (n, d) and (d,) arrays', async () => {
    const two = await readQueryVectors(npSave('two.npy', "np.arange(8, dtype='float32').reshape(2, 4)"), {
      dim: D,
    });
    assert.equal(two.format, 'npy');
    assert.equal(two.rows, 2);
    assert.deepEqual([...two.vectors], [0, 1, 2, 3, 4, 5, 6, 7]);
    const one = await readQueryVectors(npSave('one.npy', "np.ones(4, dtype='float32')"), { dim: D });
    assert.equal(one.rows, 1);
  });

  it('reads raw float32', async () => {
    writeRaw(file('q.f32'), new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]));
    const q = await readQueryVectors(file('q.f32'), { dim: D });
    assert.equal(q.format, 'f32');
    assert.equal(q.rows, 2);
    assert.equal(q.vectors[7], 8);
  });

  it('reads a Parquet embedding column (FLOAT[] or DOUBLE[]), with a custom column name', async () => {
    await copyToParquet(
      file('q.parquet'),
      `SELECT [i, i + 1, i + 2, i + 3]::FLOAT[] AS embedding FROM range(3) t(i)`,
    );
    const q = await readQueryVectors(file('q.parquet'), { dim: D });
    assert.equal(q.format, 'parquet');
    assert.equal(q.rows, 3);
    assert.deepEqual([...q.vectors.subarray(8)], [2, 3, 4, 5]);
    await copyToParquet(file('qd.parquet'), `SELECT [0.5, 1, 2, 3]::DOUBLE[] AS vec FROM range(2)`);
    const qd = await readQueryVectors(file('qd.parquet'), { dim: D, embeddingColumn: 'vec' });
    assert.deepEqual([...qd.vectors.subarray(0, 4)], [0.5, 1, 2, 3]);
  });

  const refusals: [string, () => string, RegExp, string?][] = [
    ['a missing file', () => file('nope.f32'), /does not exist/],
    ['an empty file', () => (writeFileSync(file('empty.f32'), ''), file('empty.f32')), /not a whole number/],
    [
      'raw bytes not a multiple of d floats',
      () => (writeFileSync(file('odd.f32'), Buffer.alloc(20)), file('odd.f32')),
      /20 bytes/,
    ],
    ['a .npy of float64', () => npSave('f8.npy', 'np.ones((2, 4))'), /dtype <f8/],
    [
      'a Fortran-order .npy',
      () => npSave('fortran.npy', "np.asfortranarray(np.ones((2, 4), dtype='float32'))"),
      /Fortran/,
    ],
    [
      'a .npy of another dimension',
      () => npSave('dim.npy', "np.ones((2, 5), dtype='float32')"),
      /dimension 5, the index has 4/,
    ],
    ['a 3-d .npy', () => npSave('3d.npy', "np.ones((2, 2, 4), dtype='float32')"), /expected \(n, d\)/],
    [
      'a truncated .npy',
      () => {
        const src = readFileSync(npSave('full.npy', "np.ones((2, 4), dtype='float32')"));
        writeFileSync(file('trunc.npy'), src.subarray(0, src.length - 4));
        return file('trunc.npy');
      },
      /needs 32 bytes of data, the file has 28/,
    ],
    [
      'NaN values',
      () => (writeRaw(file('nan.f32'), new Float32Array([1, 2, 3, 4, 0, NaN, 0, 0])), file('nan.f32')),
      /NaN or Inf.*first rows, 0-based: 1/,
    ],
  ];
  for (const [what, make, pattern] of refusals) {
    it(`refuses ${what}`, async () => {
      await assert.rejects(readQueryVectors(make(), { dim: D }), badInput(pattern));
    });
  }

  it('refuses Parquet without the column, of the wrong type, with null or short rows', async () => {
    await copyToParquet(file('nocol.parquet'), `SELECT 1 AS id`);
    await assert.rejects(
      readQueryVectors(file('nocol.parquet'), { dim: D }),
      badInput(/no column "embedding".*id \(/),
    );
    await copyToParquet(file('str.parquet'), `SELECT 'x' AS embedding`);
    await assert.rejects(
      readQueryVectors(file('str.parquet'), { dim: D }),
      badInput(/expected a list of floats/),
    );
    await copyToParquet(
      file('nulls.parquet'),
      `SELECT CASE WHEN i = 2 THEN NULL ELSE [1, 2, 3, 4]::FLOAT[] END AS embedding FROM range(4) t(i)`,
    );
    await assert.rejects(
      readQueryVectors(file('nulls.parquet'), { dim: D }),
      badInput(/1 row is unusable.*null embedding.*rows, 0-based: 2/),
    );
    await copyToParquet(file('short.parquet'), `SELECT [1, 2, 3]::FLOAT[] AS embedding FROM range(3)`);
    await assert.rejects(
      readQueryVectors(file('short.parquet'), { dim: D }),
      badInput(/3 rows are unusable.*length 3, the index has dimension 4/),
    );
    await copyToParquet(file('nullval.parquet'), `SELECT [1, NULL, 3, 4]::FLOAT[] AS embedding`);
    await assert.rejects(
      readQueryVectors(file('nullval.parquet'), { dim: D }),
      badInput(/null values inside/),
    );
    await copyToParquet(file('none.parquet'), `SELECT [1, 2, 3, 4]::FLOAT[] AS embedding FROM range(0)`);
    await assert.rejects(readQueryVectors(file('none.parquet'), { dim: D }), badInput(/no query vectors/));
  });
});
