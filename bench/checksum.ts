/**
 * Checksum throughput against `xxhsum -H1` on one 2 GiB page-cached file, in one run, so the ratio
 * is fair on a noisy VM: our async and sync paths, and the designs src/core/checksum.ts decided
 * against (a yielding readSync loop, other double-buffer sizes). Run it on an otherwise idle machine:
 * the double-buffered read uses the second core.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/checksum.js [--runs 5] [--size-mib 2048] [--tiny]
 *
 * `--tiny` overrides the size (9 MiB: past the double buffers) and runs once: seconds, for
 * test/bench-smoke.test.ts, which checks the bench and its xxhsum peer still run.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';

import {
  formatChecksum,
  loadXxh64,
  pageAlignedBuffer,
  xxh64File,
  xxh64FileSync,
  type Xxh64Api,
} from '../src/core/checksum.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'size-mib': { type: 'string', default: '2048' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const runs = values.tiny ? 1 : Number(values.runs);
const sizeMiB = values.tiny ? 9 : Number(values['size-mib']);
const file = path.join(values.dir, `checksum-${sizeMiB}m.bin`);

function ensureFile(): void {
  if (existsSync(file) && statSync(file).size === sizeMiB * 2 ** 20) return;
  mkdirSync(values.dir, { recursive: true });
  const fd = openSync(file, 'w');
  const block = randomBytes(16 << 20);
  for (let written = 0; written < sizeMiB * 2 ** 20; written += 1 << 20) {
    // Stamp each MiB so no two are identical.
    const offset = ((written >>> 20) % 16) << 20;
    block.writeUInt32LE(written >>> 20, offset);
    writeSync(fd, block, offset, 1 << 20);
  }
  closeSync(fd);
}

function warm(): void {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(16 << 20);
  while (readSync(fd, buf, 0, buf.length, null) > 0);
  closeSync(fd);
}

const buffers = new Map<number, Buffer[]>();

async function doubleBuffered(chunk: number, aligned = true): Promise<string> {
  const hasher = await loadXxh64();
  const handle = await open(file, 'r');
  try {
    const state = hasher.create64(0n);
    // Reused across runs, as the sync path reuses its buffer: fresh memory is slow to first touch.
    const alloc = aligned ? pageAlignedBuffer : (n: number) => Buffer.allocUnsafe(n);
    const key = aligned ? chunk : -chunk;
    let bufs = buffers.get(key);
    if (!bufs) buffers.set(key, (bufs = [alloc(chunk), alloc(chunk)]));
    let pos = 0;
    let i = 0;
    let pending = handle.read(bufs[0]!, 0, chunk, 0);
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const cur = bufs[i]!;
      pos += bytesRead;
      i ^= 1;
      pending = handle.read(bufs[i]!, 0, chunk, pos);
      state.update(bytesRead === chunk ? cur : cur.subarray(0, bytesRead));
    }
    return formatChecksum(state.digest());
  } finally {
    await handle.close();
  }
}

let yieldingBuffer: Buffer | undefined;

/** The alternative async design: the sync loop, giving the event loop a turn every 16 MiB. */
async function syncYielding(hasher: Xxh64Api): Promise<string> {
  const fd = openSync(file, 'r');
  const buf = (yieldingBuffer ??= pageAlignedBuffer(1 << 20));
  try {
    const state = hasher.create64(0n);
    let pos = 0;
    for (let n; (n = readSync(fd, buf, 0, buf.length, pos)) > 0;) {
      state.update(n === buf.length ? buf : buf.subarray(0, n));
      pos += n;
      if (pos % (16 << 20) === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return formatChecksum(state.digest());
  } finally {
    closeSync(fd);
  }
}

function xxhsum(): string {
  const res = spawnSync('xxhsum', ['-H1', file], { encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`xxhsum failed: ${res.stderr}`);
  return 'xxh64:' + res.stdout.split(/\s+/)[0];
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  ensureFile();
  warm();
  const hasher = await loadXxh64();
  const bytes = statSync(file).size;
  const contenders: [string, () => Promise<string> | string][] = [
    ['xxhsum -H1 (C)', xxhsum],
    ['xxh64FileSync (readSync 1 MiB)', () => xxh64FileSync(file, hasher)],
    ['xxh64File (double-buffered FileHandle.read 2 MiB)', () => xxh64File(file)],
    ['readSync 1 MiB, yielding every 16 MiB', () => syncYielding(hasher)],
    ['double-buffered FileHandle.read 1 MiB', () => doubleBuffered(1 << 20)],
    ['double-buffered FileHandle.read 4 MiB', () => doubleBuffered(4 << 20)],
    ['double-buffered FileHandle.read 8 MiB', () => doubleBuffered(8 << 20)],
    ["double-buffered 4 MiB, malloc'd buffers (not page-aligned)", () => doubleBuffered(4 << 20, false)],
  ];
  const times = contenders.map(() => [] as number[]);
  const digests = new Set<string>();
  // Interleaved so drift on a shared VM hits every contender alike.
  for (let r = 0; r < runs; r++) {
    for (const [i, [, fn]] of contenders.entries()) {
      const t0 = process.hrtime.bigint();
      digests.add(await fn());
      times[i]!.push(Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }
  if (digests.size !== 1) throw new Error(`digests disagree: ${[...digests].join(' ')}`);
  const base = median(times[0]!);
  console.log(`file ${file}, ${(bytes / 2 ** 30).toFixed(2)} GiB, page-cached, ${runs} runs, medians`);
  console.log(`digest ${[...digests][0]}`);
  console.log('| method | median s | GB/s | vs xxhsum |');
  console.log('|---|---|---|---|');
  for (const [i, [name]] of contenders.entries()) {
    const m = median(times[i]!);
    console.log(`| ${name} | ${m.toFixed(3)} | ${(bytes / m / 1e9).toFixed(2)} | ${(base / m).toFixed(2)} |`);
  }
}

await main();
