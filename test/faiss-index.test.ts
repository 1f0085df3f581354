import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { faissBuildFacts } from '../src/core/build-info.js';
import { FaissError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { seededVectors } from '../src/core/util/random.js';
import { tmpDir } from './helpers/tmp.js';

const d = 16;
const n = 500;
const x = seededVectors(n, d, 7);
const BIG = (1n << 63n) - 1n;
// Ids spread over the whole int64 range, including 0 and 2^63-1, so any Number conversion shows.
const ids = BigInt64Array.from({ length: n }, (_, i) =>
  i === 0 ? 0n : i === 1 ? BIG : BIG - BigInt(i) * 7919n,
);

function flatWithIds(): FaissIndex {
  const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
  index.addWithIds(x, ids);
  return index;
}

describe('FaissIndex: construction and getters', () => {
  it('builds from a factory string and reports d, ntotal, isTrained, metric, className', () => {
    const index = FaissIndex.fromFactory(d, 'HNSW32', 'ip');
    assert.equal(index.d, d);
    assert.equal(index.ntotal, 0);
    assert.equal(index.isTrained, true);
    assert.equal(index.metric, 'ip');
    assert.equal(index.className, 'IndexHNSWFlat');
    assert.equal(FaissIndex.fromFactory(d, 'IVF4,Flat').isTrained, false);
  });

  it('wraps in IndexIDMap2 in code, including factory strings with refine', () => {
    assert.equal(FaissIndex.fromFactory(d, 'HNSW32').wrapIdMap2().className, 'IndexIDMap2<IndexHNSWFlat>');
    assert.equal(
      FaissIndex.fromFactory(d, 'IVF8,PQ4x4fs,RFlat').wrapIdMap2().className,
      'IndexIDMap2<IndexRefine<IndexIVFPQFastScan>>',
    );
  });

  it('refuses to wrap twice or to wrap a non-empty index', () => {
    const wrapped = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    assert.throws(() => wrapped.wrapIdMap2(), {
      name: 'FaissError',
      message: /already wrapped in IndexIDMap2/,
    });
    const filled = FaissIndex.fromFactory(d, 'Flat');
    filled.add(x);
    assert.throws(() => filled.wrapIdMap2(), { name: 'FaissError', message: /holds 500 vectors/ });
  });

  it("turns a factory string FAISS rejects into a FaissError with FAISS's message", () => {
    assert.throws(
      () => FaissIndex.fromFactory(d, 'NoSuchIndex42'),
      (err: unknown) => err instanceof FaissError && /could not parse|NoSuchIndex42/.test(err.message),
    );
  });
});

describe('FaissIndex: add, search, reconstruct, remove', () => {
  it('finds each stored vector as its own nearest neighbour, labelled with its 64-bit id', () => {
    const index = flatWithIds();
    assert.equal(index.ntotal, n);
    const { distances, labels } = index.search(x, 3);
    assert.equal(labels.length, n * 3);
    assert.equal(distances.length, n * 3);
    for (let i = 0; i < n; i++) {
      assert.equal(labels[i * 3], ids[i]);
      assert.ok(Math.abs(distances[i * 3]!) < 1e-4, `distance to itself ${distances[i * 3]}`);
    }
  });

  it('fills missing results with -1 when k exceeds ntotal', () => {
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    index.addWithIds(x.subarray(0, 2 * d), BigInt64Array.of(5n, 6n));
    const { labels } = index.search(x.subarray(0, d), 4);
    assert.deepEqual([...labels], [5n, 6n, -1n, -1n]);
  });

  it('add works on an unwrapped index and FAISS refuses it through IDMap', () => {
    const plain = FaissIndex.fromFactory(d, 'Flat');
    plain.add(x);
    assert.equal(plain.search(x.subarray(d, 2 * d), 1).labels[0], 1n);
    const wrapped = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    assert.throws(() => wrapped.add(x), { name: 'FaissError', message: /add_with_ids/ });
  });

  it('reconstructs a vector by external id, and reports an unknown id', () => {
    const index = flatWithIds();
    assert.deepEqual(index.reconstruct(BIG), x.slice(d, 2 * d));
    assert.deepEqual(index.reconstruct(0), x.slice(0, d));
    assert.throws(() => index.reconstruct(12345n), { name: 'FaissError' });
  });

  it('removes ids, keeping id_map, rev_map and the rows consistent', () => {
    const index = flatWithIds();
    assert.equal(index.removeIds(BigInt64Array.of(ids[3]!, ids[10]!, 424242n)), 2);
    assert.equal(index.ntotal, n - 2);
    const map = index.idMap();
    assert.equal(map.length, n - 2);
    assert.ok(!map.includes(ids[3]!) && !map.includes(ids[10]!));
    assert.equal(index.checkConsistency(), true);
    assert.throws(() => index.reconstruct(ids[3]!), { name: 'FaissError' });
  });

  it('idMap returns row -> external id in row order', () => {
    assert.deepEqual(flatWithIds().idMap(), ids);
  });

  it('checkConsistency needs an IndexIDMap2', () => {
    assert.throws(() => FaissIndex.fromFactory(d, 'Flat').checkConsistency(), /needs an IndexIDMap2/);
    assert.equal(flatWithIds().checkConsistency(), true);
  });

  it('a disposed index refuses further calls', () => {
    const index = flatWithIds();
    index.dispose();
    assert.throws(() => index.search(x.subarray(0, d), 1), /disposed/);
  });
});

describe('FaissIndex: search parameters', () => {
  it('sets nprobe through the IDMap2 wrapper and reads back the stored value', () => {
    const index = FaissIndex.fromFactory(d, 'IVF8,Flat').wrapIdMap2();
    index.train(x);
    index.addWithIds(x, ids);
    assert.equal(index.getParameters().nprobe, 1);
    index.setParameters('nprobe=7');
    assert.equal(index.getParameters().nprobe, 7);
  });

  it('sets efSearch on HNSW and k_factor_rf and quantizer parameters on IVF-PQ + refine', () => {
    const hnsw = FaissIndex.fromFactory(d, 'HNSW16').wrapIdMap2();
    hnsw.setParameters('efSearch=77');
    assert.equal(hnsw.getParameters().efSearch, 77);

    const refine = FaissIndex.fromFactory(d, 'IVF8_HNSW16,PQ4x4fs,RFlat').wrapIdMap2();
    refine.setParameters('nprobe=3, k_factor_rf=4, quantizer_efSearch=21');
    const params = refine.getParameters();
    assert.equal(params.nprobe, 3);
    assert.equal(params.k_factor_rf, 4);
    assert.equal(params.quantizer_efSearch, 21);
  });

  it("rejects an unknown parameter with FAISS's message, and a malformed string before FAISS", () => {
    const index = FaissIndex.fromFactory(d, 'HNSW16').wrapIdMap2();
    assert.throws(() => index.setParameters('nprobe=4'), { name: 'FaissError', message: /nprobe/ });
    assert.throws(() => index.setParameters('nprobe'), { name: 'TypeError', message: /must look like/ });
  });

  it('lists parameter ranges from ParameterSpace on the index inside the wrapper', () => {
    const ranges = FaissIndex.fromFactory(d, 'IVF8,Flat').wrapIdMap2().parameterRanges();
    const nprobe = ranges.find((r) => r.name === 'nprobe');
    assert.ok(nprobe, `nprobe in ${JSON.stringify(ranges)}`);
    assert.deepEqual(nprobe.values, [1, 2, 4], 'FAISS proposes nprobe up to nlist/2');
    const hnsw = FaissIndex.fromFactory(d, 'HNSW16').wrapIdMap2().parameterRanges();
    assert.ok(hnsw.some((r) => r.name === 'efSearch'));
  });
});

describe('FaissIndex: files and buffers', () => {
  it('writes and reads back the same index, ids and results', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'faiss.index');
    const index = flatWithIds();
    index.write(file);
    const back = FaissIndex.read(file, { readOnly: true });
    assert.equal(back.className, 'IndexIDMap2<IndexFlatL2>', 'read_index restores the metric-specific class');
    assert.deepEqual(back.idMap(), ids);
    assert.deepEqual(back.search(x.subarray(0, 10 * d), 5), index.search(x.subarray(0, 10 * d), 5));
  });

  it('reads IVF lists through mmap', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'ivf.index');
    const index = FaissIndex.fromFactory(d, 'IVF8,Flat').wrapIdMap2();
    index.train(x);
    index.addWithIds(x, ids);
    index.setParameters('nprobe=8');
    index.write(file);
    const mapped = FaissIndex.read(file, { mmap: true, readOnly: true });
    assert.equal(mapped.ntotal, n);
    assert.equal(mapped.getParameters().nprobe, 8, 'nprobe is stored in the file');
    assert.deepEqual(
      mapped.search(x.subarray(0, 20 * d), 3).labels,
      index.search(x.subarray(0, 20 * d), 3).labels,
    );
  });

  it('serializes to a buffer identical to the file, and back', () => {
    const dir = tmpDir();
    const file = path.join(dir, 'flat.index');
    const index = flatWithIds();
    index.write(file);
    const buf = index.toBuffer();
    assert.deepEqual(buf, readFileSync(file));
    assert.deepEqual(FaissIndex.fromBuffer(buf).idMap(), ids);
  });

  it('reports a missing, empty or truncated file as a FaissError', () => {
    const dir = tmpDir();
    assert.throws(() => FaissIndex.read(path.join(dir, 'nope.index')), {
      name: 'FaissError',
      message: /could not open/,
    });
    const buf = flatWithIds().toBuffer();
    assert.throws(() => FaissIndex.fromBuffer(buf.subarray(0, 0)), { name: 'FaissError' });
    assert.throws(() => FaissIndex.fromBuffer(buf.subarray(0, buf.length - 100)), { name: 'FaissError' });
  });
});

describe('FaissIndex: threads and build facts', () => {
  it('sets and gets the OpenMP thread count', () => {
    const before = FaissIndex.getNumThreads();
    FaissIndex.setNumThreads(1);
    assert.equal(FaissIndex.getNumThreads(), 1);
    FaissIndex.setNumThreads(before);
    assert.equal(FaissIndex.getNumThreads(), before);
  });

  it('reports the FAISS version, SIMD level and real IO flag values', () => {
    const info = FaissIndex.buildInfo();
    // The version compiled into the addon (FAISS's own macros) is the one build-native recorded
    // from the headers it chose, which `indexctl --version` reports without loading the addon.
    assert.match(info.faissVersion, /^\d+\.\d+\.\d+$/);
    assert.equal(info.faissVersion, faissBuildFacts()?.version);
    assert.match(info.simd, /^(generic|avx2|avx512)$/);
    assert.equal(info.ioFlags.READ_ONLY, 2);
    assert.equal(info.ioFlags.MMAP, 8 | 0x646f0000);
  });
});

describe('FaissIndex.allocateVectors', () => {
  it('returns a zeroed Float32Array of n x d that FAISS reads like any other', () => {
    const big = FaissIndex.allocateVectors(3000, d); // > 2 MiB: the huge-page path
    assert.equal(big.length, 3000 * d);
    assert.ok(big.every((v) => v === 0));
    big.set(seededVectors(3000, d, 9));
    const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
    index.addWithIds(
      big,
      BigInt64Array.from({ length: 3000 }, (_, i) => BigInt(i)),
    );
    assert.equal(index.search(big.subarray(77 * d, 78 * d), 1).labels[0], 77n);
    assert.equal(FaissIndex.allocateVectors(1, d).length, d);
    assert.throws(() => FaissIndex.allocateVectors(-1, d), /n must be an integer/);
  });
});

describe('FaissIndex.reserve', () => {
  for (const factory of ['Flat', 'HNSW16', 'IVF8,Flat', 'IVF8,PQ4x4fs,RFlat']) {
    it(`reserves for ${factory} without changing what the index holds or finds`, () => {
      const index = FaissIndex.fromFactory(d, factory).wrapIdMap2();
      index.train(x);
      index.reserve(n);
      assert.equal(index.ntotal, 0);
      for (let start = 0; start < n; start += 100) {
        index.addWithIds(x.subarray(start * d, (start + 100) * d), ids.subarray(start, start + 100));
      }
      assert.deepEqual(index.idMap(), ids);
      assert.equal(index.checkConsistency(), true);
      if (factory.startsWith('IVF')) index.setParameters('nprobe=8');
      assert.equal(index.search(x.subarray(42 * d, 43 * d), 1).labels[0], ids[42]);
    });
  }
});
