import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import {
  formatChecksum,
  isChecksum,
  loadXxh64,
  parseChecksum,
  xxh64Bytes,
  xxh64File,
  xxh64FileSync,
} from '../src/core/checksum.js';
import { mulberry32 } from '../src/core/util/random.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();

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

// Sizes straddle the 1 MiB read buffer and the 16 MiB yield interval.
const cases: [string, number][] = [
  ['empty', 0],
  ['one byte', 1],
  ['31 bytes (under one XXH64 stripe)', 31],
  ['1 MiB exactly', 1 << 20],
  ['1 MiB + 3 bytes', (1 << 20) + 3],
  ['17 MiB + 5 bytes', (17 << 20) + 5],
];

describe('xxh64 checksums match xxhsum -H1', () => {
  for (const [label, size] of cases) {
    it(label, async () => {
      const file = fileOf(`f${size}.bin`, size, size + 1);
      const expected = xxhsum(file);
      assert.match(expected, /^xxh64:[0-9a-f]{16}$/);
      assert.equal(await xxh64File(file), expected);
      assert.equal(xxh64FileSync(file, await loadXxh64()), expected);
    });
  }

  it('reports progress up to the file size and hashes concurrent files independently', async () => {
    const a = fileOf('a.bin', (20 << 20) + 7, 11);
    const b = fileOf('b.bin', 3 << 20, 12);
    const seen: number[] = [];
    // b starts once a has hashed its first chunk, so the two overlap by construction, not by timing.
    let hb: Promise<string> | undefined;
    const ha = await xxh64File(a, {
      onProgress: (n) => {
        seen.push(n);
        hb ??= xxh64File(b);
      },
    });
    assert.ok(hb, 'a reported progress');
    assert.equal(ha, xxhsum(a));
    assert.equal(await hb, xxhsum(b));
    assert.equal(seen.at(-1), (20 << 20) + 7);
    assert.ok(seen[0]! < (20 << 20) + 7, 'b started while a was mid-file');
  });

  it('hashes bytes in memory the same way', async () => {
    const file = fileOf('m.bin', 1000, 3);
    const { readFileSync } = await import('node:fs');
    assert.equal(await xxh64Bytes(readFileSync(file)), xxhsum(file));
  });

  it('passes through ENOENT for a missing file and EISDIR for a directory', async () => {
    await assert.rejects(xxh64File(path.join(dir, 'nope')), { code: 'ENOENT' });
    await assert.rejects(xxh64File(dir), { code: 'EISDIR' });
  });

  it('stops when aborted, before or during the read, and hashes correctly afterwards', async () => {
    const file = fileOf('abort.bin', 40 << 20, 5);
    const before = new AbortController();
    before.abort();
    await assert.rejects(xxh64File(file, { signal: before.signal }), { name: 'AbortError' });
    const during = new AbortController();
    const onProgress = (n: number): void => {
      if (n >= 8 << 20) during.abort();
    };
    await assert.rejects(xxh64File(file, { signal: during.signal, onProgress }), { name: 'AbortError' });
    assert.equal(await xxh64File(file), xxhsum(file));
  });
});

describe('formatChecksum / parseChecksum', () => {
  it('pads to 16 hex digits and round-trips', () => {
    assert.equal(formatChecksum(0n), 'xxh64:0000000000000000');
    assert.equal(formatChecksum(0xef46db3751d8e999n), 'xxh64:ef46db3751d8e999');
    assert.equal(formatChecksum((1n << 64n) - 1n), 'xxh64:ffffffffffffffff');
    assert.equal(parseChecksum('xxh64:00000000000000ff'), 255n);
    assert.equal(parseChecksum(formatChecksum(0x0123456789abcdefn)), 0x0123456789abcdefn);
  });

  it('refuses anything but xxh64:<16 lowercase hex>', () => {
    for (const bad of [
      '',
      'xxh64:',
      'xxh64:0123456789ABCDEF',
      'xxh64:0123456789abcde',
      'xxh64:0123456789abcdef0',
      'sha256:0123456789abcdef',
      '0123456789abcdef',
      ' xxh64:0123456789abcdef',
    ]) {
      assert.throws(() => parseChecksum(bad), TypeError, bad);
      assert.equal(isChecksum(bad), false);
    }
    assert.equal(isChecksum('xxh64:0123456789abcdef'), true);
    assert.equal(isChecksum(42), false);
  });
});
