/**
 * The addon's per-row kernels (native/kernels.cc) against their JS references: the non-finite check
 * the chunks reader runs on every decoded embedding, and the per-chunk XXH64 every build stores
 * (chunk_embedding_hash, which `build --base` compares against hashes of older versions).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { hashRows, hashRowsWasm } from '../src/core/build/embedding-hash.js';
import { loadNative } from '../src/core/faiss/native.js';
import { seededVectors } from '../src/core/util/random.js';
import { nativeHashRows, nonFiniteRows, nonFiniteRowsJs } from '../src/core/util/row-kernels.js';

const addon = loadNative();

describe('row kernels', () => {
  it('the addon has both kernels (built with libxxhash-dev, as setup.sh installs it)', () => {
    assert.equal(typeof addon.nonFiniteRows, 'function');
    assert.equal(typeof nativeHashRows(), 'function');
  });

  it('nonFiniteRows finds exactly the rows with NaN or +-Inf, as the JS reference does', () => {
    for (const dim of [1, 3, 16, 384]) {
      const rows = 257;
      const values = seededVectors(rows, dim, 7 + dim);
      const specials = [NaN, Infinity, -Infinity, -0, 0, 3.4e38, -3.4e38, 1e-45, -1e-45];
      const expected = new Set<number>();
      for (let k = 0; k < 40; k++) {
        const row = (k * 37 + dim) % rows;
        const at = row * dim + ((k * 11) % dim);
        const v = specials[k % specials.length]!;
        values[at] = v;
        if (!Number.isFinite(v)) expected.add(row);
      }
      const native = nonFiniteRows(values, dim);
      assert.deepEqual(
        native,
        [...expected].sort((a, b) => a - b),
        `dim ${dim}`,
      );
      assert.deepEqual(native, nonFiniteRowsJs(values, dim), `dim ${dim}`);
      assert.deepEqual(
        nonFiniteRows(values.subarray(dim * 10, dim * 20), dim),
        nonFiniteRowsJs(values.subarray(dim * 10, dim * 20), dim),
      );
    }
    assert.deepEqual(nonFiniteRows(new Float32Array(0), 8), []);
  });

  it("hashRows (native) gives xxhash-wasm's XXH64 of every row, offsets and partial outputs included", async () => {
    for (const dim of [1, 5, 128, 384]) {
      const rows = 300;
      const values = seededVectors(rows, dim, dim);
      const native = new BigUint64Array(rows);
      const wasm = new BigUint64Array(rows);
      await hashRows(values, dim, native);
      await hashRowsWasm(values, dim, wasm);
      assert.deepEqual(native, wasm, `dim ${dim}`);
      // A view into the middle of both arrays: the kernel honours byteOffset on each side.
      const part = new BigUint64Array(rows);
      await hashRows(values.subarray(dim * 7), dim, part.subarray(3, 3 + 50));
      assert.deepEqual(part.subarray(3, 53), wasm.subarray(7, 57));
      assert.equal(part[2], 0n);
      assert.equal(part[53], 0n);
    }
  });

  it('bad arguments are refused, not read past', () => {
    const kernel = addon.hashRows!;
    assert.throws(() => addon.nonFiniteRows!(new Float32Array(10), 3), /not a multiple of dim 3/);
    assert.throws(
      () => addon.nonFiniteRows!(new Float64Array(4) as unknown as Float32Array, 2),
      /Float32Array/,
    );
    assert.throws(
      () => kernel(new Float32Array(8), 4, new BigUint64Array(1)),
      /out holds 1 hashes, 2 rows given/,
    );
    assert.throws(
      () => kernel(new Float32Array(8), 4, new BigInt64Array(2) as unknown as BigUint64Array),
      /BigUint64Array/,
    );
    assert.throws(() => kernel(new Float32Array(8), 0, new BigUint64Array(2)), /dim/);
  });
});
