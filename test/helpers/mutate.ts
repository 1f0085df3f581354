/**
 * Seeded random damage to one file of a version, for the mutation test: byte flips, random byte
 * runs, int32/int64 fields overwritten with extreme values, truncation, zeroed and duplicated
 * ranges. The same seed and the same file bytes always give the same mutation, and its description
 * says exactly what was done, so a finding can be replayed and read.
 *
 * Random offsets mostly land in bulk data (vectors, codes, empty DuckDB pages) that no reader
 * checks, so each file kind biases its targets toward its structure: for faiss.index the index
 * headers and the counts of FAISS's size-prefixed vectors, for idmap.parquet the footer, for
 * catalog.duckdb the file headers and the bytes that are not padding.
 */
import { readFileSync, writeFileSync } from 'node:fs';

import { mulberry32 } from '../../src/core/util/random.js';

export const MUTATED_FILES = ['faiss.index', 'idmap.parquet', 'catalog.duckdb'] as const;
export type MutatedFile = (typeof MUTATED_FILES)[number];

export interface Mutation {
  file: MutatedFile;
  seed: number;
  /** What was done, e.g. `int64 @1234 (size-prefix) 42 -> 9223372036854775807`. */
  description: string;
}

/** Values that break size and offset arithmetic: zero, negative, just past 2^31 and 2^32, the maxima. */
const EXTREMES: bigint[] = [
  0n,
  -1n,
  1n,
  2n ** 31n - 1n,
  2n ** 31n,
  -(2n ** 31n),
  2n ** 32n,
  2n ** 32n - 1n,
  2n ** 63n - 1n,
  -(2n ** 63n),
  2n ** 40n,
];

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** An offset worth damaging, what is there, and its group (targets are drawn group first). */
interface Target {
  at: number;
  what: string;
  group?: string;
}

const tag = (bytes: Buffer, at: number) => bytes.toString('latin1', at, at + 4);

/** FAISS fourccs start with I (IxM2, IHNf, IwFl, IwPQ, IxF2, IRFl, ...) or are an invlists tag (ilar). */
function isFourcc(bytes: Buffer, at: number): boolean {
  const t = tag(bytes, at);
  return /^(I[A-Za-z0-9]{3}|ilar|full|sprs)$/.test(t);
}

/**
 * faiss.index structure, found by scanning rather than a full parser (the file holds nested indexes
 * of several families): every fourcc and the index header fields that follow it (d int32, ntotal
 * int64, is_trained, metric_type), and every plausible size prefix (a uint64 count n, high bytes
 * zero, whose n x 1/4/8-byte payload fits in the file) with the field right after its payload.
 * The id_map at the end of an IndexIDMap2 (n int64 ids) is skipped: its ids would read as counts.
 */
function faissTargets(bytes: Buffer): Target[] {
  const out: Target[] = [];
  const size = bytes.length;
  let idsStart = size;
  if (size >= 41 && tag(bytes, 0) === 'IxM2') {
    const ntotal = bytes.readBigInt64LE(8);
    if (ntotal >= 0n && ntotal * 8n + 8n <= BigInt(size)) {
      idsStart = size - Number(ntotal) * 8;
      out.push({ at: idsStart - 8, what: 'id_map size', group: 'header' });
    }
  }
  for (let at = 0; at + 4 <= idsStart; at++) {
    if (isFourcc(bytes, at)) {
      out.push({ at, what: `fourcc ${tag(bytes, at)}`, group: 'header' });
      if (at + 37 <= size && tag(bytes, at).startsWith('I') && tag(bytes, at) !== 'ilar') {
        out.push({ at: at + 4, what: `${tag(bytes, at)}.d`, group: 'header' });
        out.push({ at: at + 8, what: `${tag(bytes, at)}.ntotal`, group: 'header' });
        out.push({ at: at + 32, what: `${tag(bytes, at)}.is_trained`, group: 'header' });
        out.push({ at: at + 33, what: `${tag(bytes, at)}.metric_type`, group: 'header' });
        // nlist/nprobe of an IVF, the first vector's count of HNSW and flat storage.
        out.push({ at: at + 37, what: `${tag(bytes, at)}+header`, group: 'header' });
        out.push({ at: at + 45, what: `${tag(bytes, at)}+header+8`, group: 'header' });
      }
    }
  }
  for (let at = 0; at + 8 <= idsStart; at++) {
    if (bytes.readUInt32LE(at + 4) !== 0) continue;
    const n = bytes.readUInt32LE(at);
    if (n === 0 || n > size) continue;
    for (const width of [1, 4, 8]) {
      const end = at + 8 + n * width;
      if (end <= size && (end === size || end === idsStart - 8 || isFourcc(bytes, end) || width !== 1)) {
        out.push({ at, what: `size-prefix n=${n}`, group: 'size' });
        if (end + 4 <= size) out.push({ at: end, what: `after ${n}x${width} vector`, group: 'after' });
        break;
      }
    }
  }
  return out;
}

/** Parquet: "PAR1" header, column chunks, thrift footer, footer length (int32) and "PAR1". */
function parquetTargets(bytes: Buffer): Target[] {
  const size = bytes.length;
  const out: Target[] = [
    { at: 0, what: 'magic' },
    { at: size - 4, what: 'trailing magic' },
    { at: size - 8, what: 'footer length' },
  ];
  const footer = bytes.readInt32LE(size - 8);
  const start = Math.max(4, size - 8 - footer);
  for (let at = start; at < size - 8; at++) out.push({ at, what: `footer+${at - start}`, group: 'footer' });
  return out;
}

/**
 * DuckDB: a 4 KiB main header ("DUCK" magic, storage version), two 4 KiB database headers
 * (iteration, meta block, free list, block count, ...), then 256 KiB blocks each starting with its
 * checksum. Targets: every 8-byte field of the headers and each block's first bytes.
 */
function duckdbTargets(bytes: Buffer): Target[] {
  const out: Target[] = [];
  for (const base of [0, 4096, 8192]) {
    for (let at = base; at < base + 64 && at + 8 <= bytes.length; at += 8) {
      out.push({ at, what: `header@${base}+${at - base}`, group: 'header' });
    }
  }
  for (let at = 12288; at + 16 <= bytes.length; at += 262144) {
    out.push({ at, what: `block checksum @${at}`, group: 'block' });
    out.push({ at: at + 8, what: `block data @${at + 8}`, group: 'block' });
  }
  return out;
}

function structureTargets(file: MutatedFile, bytes: Buffer): Target[] {
  if (bytes.length < 16) return [];
  switch (file) {
    case 'faiss.index':
      return faissTargets(bytes);
    case 'idmap.parquet':
      return parquetTargets(bytes);
    case 'catalog.duckdb':
      return duckdbTargets(bytes);
  }
}

/** A random offset, half the time one whose byte is not zero (DuckDB pages are mostly padding). */
function anyOffset(rng: Rng, bytes: Buffer): Target {
  let at = rng.int(bytes.length);
  if (rng.chance(0.5)) {
    for (let tries = 0; tries < 32 && bytes[at] === 0; tries++) at = rng.int(bytes.length);
  }
  return { at, what: 'random' };
}

/** A group, then a target in it: HNSW's thousands of offsets must not drown the few header fields. */
function pickTarget(rng: Rng, targets: Target[]): Target {
  const groups = [...new Set(targets.map((t) => t.group ?? ''))];
  const group = rng.pick(groups);
  return rng.pick(targets.filter((t) => (t.group ?? '') === group));
}

function writeInt(bytes: Buffer, at: number, width: 4 | 8, value: bigint): string {
  const old = width === 8 ? bytes.readBigInt64LE(at) : BigInt(bytes.readInt32LE(at));
  if (width === 8) bytes.writeBigInt64LE(BigInt.asIntN(64, value), at);
  else bytes.writeInt32LE(Number(BigInt.asIntN(32, value)), at);
  return `${old} -> ${width === 8 ? BigInt.asIntN(64, value) : BigInt.asIntN(32, value)}`;
}

/** One mutation of `bytes` (at least 1 byte long); returns the new bytes and what was done. */
function mutateBytes(rng: Rng, file: MutatedFile, input: Buffer): { bytes: Buffer; description: string } {
  const bytes = Buffer.from(input);
  const size = bytes.length;
  const targets = structureTargets(file, bytes);
  const target = targets.length > 0 && rng.chance(0.6) ? pickTarget(rng, targets) : anyOffset(rng, bytes);
  const where = `@${target.at} (${target.what})`;
  const kind = rng.pick(['int', 'int', 'int', 'flip', 'run', 'truncate', 'zero', 'dup', 'nudge'] as const);
  switch (kind) {
    case 'int': {
      const width = rng.chance(0.5) ? 8 : 4;
      if (target.at + width > size) break;
      const value = rng.chance(0.2) ? BigInt(size + rng.int(3) - 1) : rng.pick(EXTREMES);
      return { bytes, description: `int${width * 8} ${where} ${writeInt(bytes, target.at, width, value)}` };
    }
    case 'nudge': {
      // Off-by-one counts: the most common way a buggy writer gets a size wrong.
      if (target.at + 8 > size) break;
      const delta = rng.pick([-1n, 1n, 2n, -8n]);
      const old = bytes.readBigInt64LE(target.at);
      return { bytes, description: `int64 ${where} ${writeInt(bytes, target.at, 8, old + delta)}` };
    }
    case 'flip': {
      const n = 1 + rng.int(4);
      const flips: string[] = [];
      for (let i = 0; i < n && target.at + i < size; i++) {
        const mask = 1 + rng.int(255);
        bytes[target.at + i] = bytes[target.at + i]! ^ mask;
        flips.push(`^0x${mask.toString(16)}`);
      }
      return { bytes, description: `flip ${where} ${flips.join(' ')}` };
    }
    case 'run': {
      const n = Math.min(1 + rng.int(64), size - target.at);
      for (let i = 0; i < n; i++) bytes[target.at + i] = rng.int(256);
      return { bytes, description: `random run of ${n} bytes ${where}` };
    }
    case 'zero': {
      const n = Math.min(1 + rng.int(rng.chance(0.5) ? 16 : 4096), size - target.at);
      bytes.fill(0, target.at, target.at + n);
      return { bytes, description: `zeroed ${n} bytes ${where}` };
    }
    case 'dup': {
      // Copies a range of the file over the target: plausible bytes in the wrong place.
      const n = Math.min(1 + rng.int(256), size - target.at);
      const from = rng.int(size - n + 1);
      bytes.copy(bytes, target.at, from, from + n);
      return { bytes, description: `duplicated ${n} bytes from @${from} over ${where}` };
    }
    case 'truncate': {
      const to = rng.chance(0.5) ? target.at : rng.int(size);
      return { bytes: bytes.subarray(0, to), description: `truncated ${size} -> ${to} bytes ${where}` };
    }
  }
  // The target was too close to the end for the chosen kind: flip its byte instead.
  bytes[target.at] = bytes[target.at]! ^ 0xff;
  return { bytes, description: `flip ${where} ^0xff` };
}

/** Applies the mutation `seed` chooses to `path` (a `file` of a version copy), in place. */
export function mutateFile(path: string, file: MutatedFile, seed: number): Mutation {
  const { bytes, description } = mutateBytes(new Rng(seed), file, readFileSync(path));
  writeFileSync(path, bytes);
  return { file, seed, description };
}
