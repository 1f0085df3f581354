/**
 * The checksum addon (native/hash_addon.cc, src/core/hash-addon.ts): each file's XXH64 is what
 * `xxhsum -H1` prints, for sizes around its 1 MiB blocks and an empty file; a set cancel flag stops
 * it before the first block; a missing file and a directory reject naming the path, with errno; the
 * addon links no FAISS (verify's level 1 loads it instead of the FAISS addon).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomFillSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, it } from 'node:test';

import { HASH_ADDON_FILE, hashFileNative, hasNativeFileHash } from '../src/core/hash-addon.js';
import { packageRoot } from '../src/core/util/paths.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-hash-addon-');
const addonFile = path.join(packageRoot, 'build/Release', HASH_ADDON_FILE);

interface RawAddon {
  hashFileAsync(file: string, control: BigInt64Array): Promise<{ bytes: number; xxh64: bigint }>;
}

function xxhsum(file: string): string {
  const res = spawnSync('xxhsum', ['-H1', file], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return `xxh64:${res.stdout.split(/\s+/)[0]}`;
}

describe('the checksum addon', () => {
  it('is built and loads (setup.sh builds it beside the FAISS addon)', () => {
    assert.ok(hasNativeFileHash(), `${addonFile} missing or not loading`);
  });

  it('gives the digest xxhsum -H1 gives, at and around its block size, and of an empty file', async () => {
    const MiB = 1 << 20;
    for (const bytes of [0, 1, MiB - 1, MiB, MiB + 1, 3 * MiB + 17]) {
      const file = path.join(dir, `f-${bytes}`);
      writeFileSync(file, randomFillSync(Buffer.alloc(bytes)));
      const hash = hashFileNative(file)!;
      const digest = await hash.digest;
      assert.deepEqual(digest, { checksum: xxhsum(file), bytes }, file);
      assert.equal(hash.done(), bytes);
    }
  });

  it('a cancel flag set before it starts: rejects "cancelled" and hashes nothing', async () => {
    const file = path.join(dir, 'to-cancel');
    writeFileSync(file, Buffer.alloc(4 << 20, 7));
    const raw = createRequire(import.meta.url)(addonFile) as RawAddon;
    const control = BigInt64Array.of(1n, 0n);
    await assert.rejects(raw.hashFileAsync(file, control), /^Error: cancelled$/);
    assert.equal(control[1], 0n);
  });

  it('a missing file and a directory reject naming the path, with errno', async () => {
    const missing = path.join(dir, 'nope');
    await assert.rejects(hashFileNative(missing)!.digest, (err: Error & { errno?: number }) => {
      assert.equal(err.message, `cannot open ${missing}: No such file or directory`);
      assert.equal(err.errno, 2);
      return true;
    });
    const sub = path.join(dir, 'a-dir');
    mkdirSync(sub);
    await assert.rejects(hashFileNative(sub)!.digest, (err: Error & { errno?: number }) => {
      assert.equal(err.message, `cannot read ${sub}: Is a directory`);
      assert.equal(err.errno, 21);
      return true;
    });
  });

  it('refuses arguments that are not (path, BigInt64Array(2))', () => {
    const raw = createRequire(import.meta.url)(addonFile) as RawAddon;
    const call = (...args: unknown[]) => (raw.hashFileAsync as (...a: unknown[]) => unknown)(...args);
    for (const args of [
      [],
      [dir],
      [dir, new Float64Array(2)],
      [dir, new BigInt64Array(1)],
      [1, new BigInt64Array(2)],
    ]) {
      assert.throws(
        () => call(...args),
        /^TypeError: hashFileAsync\(path: string, control: BigInt64Array\(2\)\)$/,
      );
    }
  });

  it('links no FAISS, BLAS or OpenMP', () => {
    const ldd = spawnSync('ldd', [addonFile], { encoding: 'utf8' });
    assert.equal(ldd.status, 0, ldd.stderr);
    assert.doesNotMatch(ldd.stdout, /faiss|blas|gomp|lapack/i);
  });
});
