/**
 * The addon's own guards, reached by calling the native object directly (past FaissIndex's
 * TypeScript checks): argument types and sizes, the busy flag on a refused async call, the metric
 * string, BigInt ids that do not fit, out-of-memory, and per-environment state under worker_threads.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { FaissError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { loadNative, type NativeIndex } from '../src/core/faiss/native.js';
import { seededVectors } from '../src/core/util/random.js';
import type { Round } from './helpers/addon-threads-child.js';

const d = 8;
const n = 50;
const x = seededVectors(n, d, 21);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) + 100n);

function filled(): { index: FaissIndex; native: NativeIndex } {
  const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
  index.addWithIds(x, ids);
  return { index, native: (index as unknown as { native: NativeIndex }).native };
}

/** Calls `f` with arguments TypeScript would refuse. */
function loose<F>(f: F): (...args: unknown[]) => unknown {
  return f as unknown as (...args: unknown[]) => unknown;
}

describe('native guards: a refused async call leaves the index usable', () => {
  it('trainAsync, addWithIdsAsync and searchAsync with a bad size throw, and the index is not busy', async () => {
    const { index, native } = filled();
    assert.throws(() => native.trainAsync(x.subarray(0, 3)), {
      name: 'TypeError',
      message: /train vectors: length 3 is not a multiple of d=8/,
    });
    assert.equal(native.info().busy, false, 'trainAsync left the index busy');
    assert.throws(() => native.searchAsync(x.subarray(0, 5), 1), {
      name: 'TypeError',
      message: /queries: length 5/,
    });
    assert.equal(native.info().busy, false, 'searchAsync left the index busy');
    assert.throws(() => native.addWithIdsAsync(x.subarray(0, 9), ids), {
      name: 'TypeError',
      message: /vectors: length 9/,
    });
    assert.throws(() => native.addWithIdsAsync(x, ids.subarray(0, 3)), {
      name: 'TypeError',
      message: /ids: 3 ids for 50 vectors/,
    });
    assert.throws(() => native.searchAsync(x, 0), {
      name: 'TypeError',
      message: /k must be an integer in \[1, 1048576\], got 0/,
    });
    assert.equal(native.info().busy, false);
    const result = await index.searchAsync(x.subarray(0, d), 1);
    assert.equal(result.labels[0], ids[0]);
    await index.trainAsync(x);
  });
});

describe('native guards: argument types are checked before any cast', () => {
  it('a typed array of the wrong kind is a TypeError naming the argument', () => {
    const { native } = filled();
    assert.throws(() => loose(native.trainAsync).call(native, new Float64Array(16)), {
      name: 'TypeError',
      message: 'train vectors must be a Float32Array, got Float64Array',
    });
    assert.throws(() => loose(native.search).call(native, 'abc', 1), {
      name: 'TypeError',
      message: 'queries must be a Float32Array, got string',
    });
    assert.throws(() => loose(native.addWithIdsAsync).call(native, x, new BigUint64Array(n)), {
      name: 'TypeError',
      message: 'ids must be a BigInt64Array, got BigUint64Array',
    });
    assert.throws(() => loose(native.removeIds).call(native, [1n]), {
      name: 'TypeError',
      message: 'ids must be a BigInt64Array, got Array',
    });
    assert.equal(native.info().ntotal, n, 'nothing was added or removed');
  });

  it('numbers, strings and buffers are checked too', () => {
    const { native } = filled();
    const addon = loadNative();
    assert.throws(() => loose(native.search).call(native, x, 2.5), {
      name: 'TypeError',
      message: /k must be an integer/,
    });
    assert.throws(() => loose(native.reserve).call(native, 'many'), {
      name: 'TypeError',
      message: /n must be an integer .*got string/,
    });
    assert.throws(() => loose(native.setParameters).call(native, 16), {
      name: 'TypeError',
      message: 'parameters must be a string, got number',
    });
    assert.throws(() => loose(native.write).call(native, undefined), {
      name: 'TypeError',
      message: 'path must be a string, got undefined',
    });
    assert.throws(() => loose(addon.readIndex)(42, 0), {
      name: 'TypeError',
      message: 'path must be a string, got number',
    });
    assert.throws(() => loose(addon.readIndexAsync)('/nonexistent', -1), {
      name: 'TypeError',
      message: /ioFlags must be/,
    });
    assert.throws(() => loose(addon.fromBuffer)('bytes'), {
      name: 'TypeError',
      message: 'buffer must be a Buffer or Uint8Array, got string',
    });
    assert.throws(() => loose(addon.setNumThreads)('4'), {
      name: 'TypeError',
      message: /threads must be an integer/,
    });
    assert.throws(() => loose(addon.allocFloat32)(-1), {
      name: 'TypeError',
      message: /length must be an integer/,
    });
    assert.throws(() => loose(addon.NativeIndex.fromFactory)(0, 'Flat', 'l2'), {
      name: 'TypeError',
      message: /d must be/,
    });
  });
});

describe('native guards: values that used to be taken silently', () => {
  it('a metric other than "l2" or "ip" is a TypeError, not an L2 index', () => {
    const { NativeIndex } = loadNative();
    for (const metric of ['cosine', 'L2', '']) {
      assert.throws(() => NativeIndex.fromFactory(d, 'Flat', metric), {
        name: 'TypeError',
        message: `metric must be 'l2' or 'ip', got '${metric}'`,
      });
    }
    assert.equal(NativeIndex.fromFactory(d, 'Flat', 'ip').info().metric, 'ip');
    assert.equal(NativeIndex.fromFactory(d, 'Flat', 'l2').info().metric, 'l2');
  });

  it('reconstruct refuses an id that does not fit in int64 instead of truncating it', () => {
    const { native } = filled();
    // 2^64 + 100 truncates to 100, an id that exists: the old code returned its vector.
    assert.throws(() => native.reconstruct((1n << 64n) + 100n), {
      name: 'RangeError',
      message: 'id 18446744073709551716 does not fit in int64',
    });
    assert.throws(() => loose(native.reconstruct).call(native, 100), {
      name: 'TypeError',
      message: 'id must be a bigint, got number',
    });
    assert.deepEqual(native.reconstruct(100n), x.subarray(0, d));
  });
});

describe('native guards: out of memory is not a FAISS error', () => {
  it('reserve of an impossible size is a RangeError "out of memory", and the index is unharmed', () => {
    const { index } = filled();
    // 2^50 ids of 8 bytes: 8 PiB, beyond any address space, so the allocation fails on any machine.
    assert.throws(
      () => index.reserve(2 ** 50),
      (err: unknown) => {
        assert.ok(err instanceof RangeError, `got ${String(err)}`);
        assert.ok(!(err instanceof FaissError));
        assert.match(err.message, /^out of memory: .*bad_alloc/);
        return true;
      },
    );
    assert.equal(index.ntotal, n);
    assert.equal(index.search(x.subarray(0, d), 1).labels[0], ids[0]);
  });
});

describe('native guards: per-environment state under worker_threads', () => {
  it('the main thread and two workers each get their own FaissError and NativeIndex classes', () => {
    const child = path.join(
      path.dirname(fileURLToPath(import.meta.url)),
      'helpers',
      'addon-threads-child.js',
    );
    const res = spawnSync(process.execPath, [child], { encoding: 'utf8' });
    assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stderr}`);
    const out = JSON.parse(res.stdout) as {
      first: Round;
      concurrent: Round;
      workers: { round: Round; exitCode: number }[];
      after: Round;
    };
    assert.equal(out.workers.length, 2);
    const rounds = [out.first, out.concurrent, ...out.workers.map((w) => w.round), out.after];
    assert.deepEqual(
      out.workers.map((w) => w.exitCode),
      [0, 0],
    );
    assert.equal(new Set(rounds.map((r) => r.thread)).size, 3, 'rounds ran on three threads');
    for (const r of rounds) {
      const where = `thread ${r.thread}`;
      assert.equal(
        r.syncIsFaissError,
        true,
        `${where}: sync error ${r.syncError} is this thread's FaissError`,
      );
      assert.equal(
        r.asyncIsFaissError,
        true,
        `${where}: async error ${r.asyncError} is this thread's FaissError`,
      );
      assert.match(r.syncError, /^FaissError: .*no_such_parameter/);
      assert.match(r.asyncError, /^FaissError: .*could not open/);
      assert.equal(r.copyIsFaissIndex, true, `${where}: fromBuffer`);
      assert.equal(r.readIsFaissIndex, true, `${where}: readAsync`);
      assert.deepEqual(r.asyncLabels, r.labels, `${where}: searchAsync = search`);
      assert.deepEqual(r.copyLabels, r.labels, `${where}: the copy searches the same`);
      assert.equal(r.labels.length, 12);
    }
  });
});
