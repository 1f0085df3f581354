/**
 * Issue 21, the build's I/O done once:
 * - the index is hashed as FAISS writes it and the chunks copy as it is copied (native/hashed_io.cc):
 *   the files are byte for byte what write_index and a copy give, the digests what `xxhsum -H1` says;
 *   neither writes over an existing file, and a missing source is named;
 * - a factory trial that passed is remembered (factory-trial-cache.ts) and a damaged entry ignored;
 * - a prefetched pass of the chunks reader hands out the rows an ordinary pass does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { formatChecksum } from '../src/core/checksum.js';
import { cachedTrial, factoryTrialCacheDir } from '../src/core/build/factory-trial-cache.js';
import { tryFactory } from '../src/core/build/factory-probe.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { loadNative } from '../src/core/faiss/native.js';
import { openChunks } from '../src/core/parquet/chunks-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-build-io-');
// The trial cache of these tests is their own (the suite's other builds use the user's).
process.env.INDEXCTL_CACHE_DIR = path.join(dir, 'cache');

function xxhsum(file: string): string {
  const res = spawnSync('xxhsum', ['-H1', file], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return `xxh64:${res.stdout.split(/\s+/)[0]}`;
}

function randomIndex(dim: number, rows: number): FaissIndex {
  const index = FaissIndex.fromFactory(dim, 'Flat', 'l2').wrapIdMap2();
  if (rows === 0) return index;
  const x = new Float32Array(rows * dim).map((_, i) => Math.sin(i * 0.37));
  index.addWithIds(
    x,
    BigInt64Array.from({ length: rows }, (_, i) => BigInt(i * 3 + 1)),
  );
  return index;
}

describe('hashed writes (native/hashed_io.cc)', () => {
  const native = loadNative();
  const skip = native.copyFileHashedAsync ? false : 'addon built without libxxhash-dev';

  it('writeHashed: the bytes of write_index, the digest of xxhsum, synced', { skip }, async () => {
    // 5 MiB of codes: more than one 4 MiB block, so both the gathered and the direct writes run.
    for (const rows of [0, 3, 20_000]) {
      const index = randomIndex(64, rows);
      const file = path.join(dir, `index-${rows}.faiss`);
      const digest = await index.writeHashed(file);
      assert.ok(digest);
      const bytes = readFileSync(file);
      assert.deepEqual(bytes, index.toBuffer(), `rows ${rows}`);
      assert.equal(digest.bytes, bytes.length);
      assert.equal(formatChecksum(digest.xxh64), xxhsum(file));
      index.dispose();
    }
  });

  it('writeHashed refuses to write over an existing file, naming it', { skip }, async () => {
    const index = randomIndex(8, 10);
    const file = path.join(dir, 'taken.faiss');
    writeFileSync(file, 'keep me');
    await assert.rejects(index.writeHashed(file), (err: Error) => {
      assert.match(err.message, /cannot create .*taken\.faiss: File exists/);
      return true;
    });
    assert.equal(readFileSync(file, 'utf8'), 'keep me');
    // The index is usable again after the failed call.
    assert.equal(index.ntotal, 10);
    index.dispose();
  });

  it('copyFileHashedAsync: the same bytes and mode, the digest of xxhsum', { skip }, async () => {
    const copy = native.copyFileHashedAsync!;
    for (const size of [0, 1, 4 << 20, (9 << 20) + 5]) {
      const from = path.join(dir, `src-${size}.bin`);
      const to = path.join(dir, `dst-${size}.bin`);
      writeFileSync(
        from,
        Buffer.alloc(size, 0).map((_, i) => (i * 31 + (i >> 11)) & 0xff),
        { mode: 0o640 },
      );
      const digest = await copy(from, to);
      assert.deepEqual(readFileSync(to), readFileSync(from), `size ${size}`);
      assert.equal(digest.bytes, size);
      assert.equal(formatChecksum(digest.xxh64), xxhsum(from));
    }
  });

  it('copyFileHashedAsync names a missing source and an existing target', { skip }, async () => {
    const copy = native.copyFileHashedAsync!;
    await assert.rejects(
      copy(path.join(dir, 'absent.bin'), path.join(dir, 'x.bin')),
      /cannot open .*absent\.bin: No such file/,
    );
    const from = path.join(dir, 'src-1.bin');
    await assert.rejects(copy(from, from), /cannot create .*src-1\.bin: File exists/);
  });
});

describe('factory trial cache', () => {
  it('remembers a pass and answers from it; cache: false runs the child; damage is ignored', async () => {
    const first = await tryFactory(24, 'HNSW8', 'l2');
    assert.deepEqual(first, { isTrained: true, className: 'IndexIDMap2<IndexHNSWFlat>' });
    assert.deepEqual(cachedTrial(24, 'HNSW8', 'l2'), first);
    const cacheDir = factoryTrialCacheDir()!;
    const [entry] = readdirSync(cacheDir);
    assert.ok(entry, 'an entry was written');
    const file = path.join(cacheDir, entry);
    // An entry that says something else is believed: the child did not run.
    const edited = { ...JSON.parse(readFileSync(file, 'utf8')), className: 'FromTheCache' };
    writeFileSync(file, JSON.stringify(edited));
    assert.equal((await tryFactory(24, 'HNSW8', 'l2')).className, 'FromTheCache');
    assert.equal((await tryFactory(24, 'HNSW8', 'l2', { cache: false })).className, first.className);
    // A damaged entry: the trial runs and writes a good one.
    writeFileSync(file, '{"isTrained": tr');
    assert.equal(cachedTrial(24, 'HNSW8', 'l2'), undefined);
    assert.equal((await tryFactory(24, 'HNSW8', 'l2')).className, first.className);
    assert.deepEqual(cachedTrial(24, 'HNSW8', 'l2'), first);
    // Another dimension, metric or factory is another trial.
    assert.equal(cachedTrial(32, 'HNSW8', 'l2'), undefined);
    assert.equal(cachedTrial(24, 'HNSW8', 'ip'), undefined);
    assert.equal(cachedTrial(24, 'HNSW16', 'l2'), undefined);
  });

  it('does not remember a failure', async () => {
    await assert.rejects(tryFactory(96, 'PQ7', 'l2'), /FAISS cannot build PQ7/);
    assert.equal(cachedTrial(96, 'PQ7', 'l2'), undefined);
  });
});

describe('chunks reader prefetch', () => {
  it('a prefetched pass gives the rows of an ordinary one; ranged passes beside it are unaffected', async () => {
    const file = path.join(dir, 'prefetch.parquet');
    await writeChunks(file, { rows: 3000, dim: 8, rowGroupSize: 256 });
    const collect = async (batches: AsyncIterable<{ ids: BigInt64Array; rowOffset: number }>) => {
      const out: bigint[] = [];
      for await (const b of batches) out.push(...b.ids);
      return out;
    };
    const reader = await openChunks(file);
    try {
      const plain = await collect(reader.batches());
      reader.prefetch();
      const ranged = await collect(reader.batches({ ranges: [[10, 20]] }));
      assert.deepEqual(ranged, plain.slice(10, 20));
      assert.deepEqual(await collect(reader.batches()), plain);
      // Prefetched and never taken: discarded without error, and the reader still reads.
      reader.prefetch();
      await reader.discardPrefetch();
      assert.deepEqual(await collect(reader.batches()), plain);
    } finally {
      await reader.discardPrefetch();
      reader.close();
    }
  });
});
