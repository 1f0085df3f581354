/**
 * The checksum pool (src/core/checksum-pool.ts): files hashed on worker threads give the digests
 * `xxhsum -H1` gives, whatever the order they finish in; a file that cannot be read fails with the
 * errno code xxh64File would have thrown, and the pool goes on; close() fails what is left.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { ChecksumPool } from '../src/core/checksum-pool.js';
import { mulberry32 } from '../src/core/util/random.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-checksum-pool-');

function xxhsum(file: string): string {
  const res = spawnSync('xxhsum', ['-H1', file], { encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  return 'xxh64:' + res.stdout.split(/\s+/)[0];
}

function fileOf(name: string, size: number, seed: number): string {
  const next = mulberry32(seed);
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (next() * 256) | 0;
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('ChecksumPool', () => {
  it('hashes more files than it has workers, each as xxhsum -H1 does, with its size and progress', async () => {
    // Sizes straddle the workers' 1 MiB read buffer; more files than lanes, so some wait in the queue.
    const sizes = [0, 1, (1 << 20) + 3, (9 << 20) + 5, 31, 1 << 20];
    const files = sizes.map((size, i) => fileOf(`p${i}.bin`, size, i + 100));
    const pool = new ChecksumPool(2);
    try {
      const last = new Map<string, number>();
      const digests = await Promise.all(files.map((f) => pool.hash(f, (n) => last.set(f, n))));
      for (const [i, file] of files.entries()) {
        assert.deepEqual(digests[i], { checksum: xxhsum(file), bytes: sizes[i] }, file);
        assert.equal(last.get(file), sizes[i], `${file}: progress ends at the file's size`);
      }
    } finally {
      pool.close();
    }
  });

  it('a file it cannot open fails with its errno code; the next file is still hashed', async () => {
    const folder = path.join(dir, 'a-directory');
    mkdirSync(folder);
    const good = fileOf('good.bin', 5000, 7);
    const pool = new ChecksumPool(1);
    try {
      const missing = pool.hash(path.join(dir, 'no-such-file'));
      const notFile = pool.hash(folder);
      const after = pool.hash(good);
      await assert.rejects(missing, (err: NodeJS.ErrnoException) => err.code === 'ENOENT');
      await assert.rejects(notFile, (err: NodeJS.ErrnoException) => err.code === 'EISDIR');
      assert.equal((await after).checksum, xxhsum(good));
    } finally {
      pool.close();
    }
  });

  it('close(reason) fails the running and the queued files with that reason, and later ones too', async () => {
    const file = fileOf('c.bin', 3 << 20, 9);
    const pool = new ChecksumPool(1);
    const running = pool.hash(file);
    const queued = pool.hash(file);
    const reason = new Error('stopped by the test');
    pool.close(reason);
    await assert.rejects(running, (err) => err === reason);
    await assert.rejects(queued, (err) => err === reason);
    await assert.rejects(pool.hash(file), (err) => err === reason);
  });
});
