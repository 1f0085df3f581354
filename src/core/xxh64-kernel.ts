/**
 * XXH64 over bytes already in a WebAssembly.Memory, so a file is read straight into the memory the
 * hash runs on. xxhash-wasm's `update()` copies every input into its own memory first, which cost
 * 35-40% of a level-1 verify's hashing time (docs/PERFORMANCE.md "verify start-up").
 *
 * The wasm part is one function, `stripes`: XXH64's inner loop over whole 32-byte stripes, four
 * 64-bit lanes kept at offset 0 of the memory. Everything done once per file (the seed, the bytes
 * after the last whole stripe, the merge and the avalanche) is here in BigInt, as in the reference
 * XXH64 (xxhash.h, `XXH64_digest`). Checked against `xxhsum -H1` by test/checksum.test.ts.
 */

const P1 = 11400714785074694791n;
const P2 = 14029467366897019727n;
const P3 = 1609587929392839161n;
const P4 = 9650029242287828579n;
const P5 = 2870177450012600261n;

const u64 = (x: bigint): bigint => BigInt.asUintN(64, x);
const rotl = (x: bigint, r: bigint): bigint => u64((x << r) | (x >> (64n - r)));

/** Signed LEB128, as wasm encodes an i64.const. */
function sleb(value: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asIntN(64, value);
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    const done = (v === 0n && (byte & 0x40) === 0) || (v === -1n && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

/** Unsigned LEB128, as wasm encodes sizes and counts. */
function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? byte : byte | 0x80);
  } while (value !== 0);
  return out;
}

const MAGIC_AND_VERSION = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]; // "\0asm", version 1

function section(id: number, content: number[]): number[] {
  return [id, ...uleb(content.length), ...content];
}

/**
 * (func (export "stripes") (param $acc i32) (param $p i32) (param $end i32)) over an imported
 * memory m.mem: for each 32-byte stripe in [p, end), lane i = rotl(lane i + u64 at p+8i * P2, 31)
 * * P1. The caller passes end - p a multiple of 32.
 */
function kernelBytes(): Uint8Array {
  const [acc, p, end] = [0, 1, 2];
  const lane = (i: number) => 3 + i;
  const body: number[] = [1, 4, 0x7e]; // locals: 4 x i64
  for (let i = 0; i < 4; i++) body.push(0x20, acc, 0x29, 3, 8 * i, 0x21, lane(i)); // lane = load acc+8i
  body.push(0x02, 0x40, 0x20, p, 0x20, end, 0x4f, 0x0d, 0); // block; br_if p >= end
  body.push(0x03, 0x40); // loop
  for (let i = 0; i < 4; i++) {
    body.push(0x20, lane(i), 0x20, p, 0x29, 3, 8 * i); // lane, u64 at p+8i
    body.push(0x42, ...sleb(P2), 0x7e, 0x7c); // * P2, +
    body.push(0x42, 31, 0x89); // rotl 31
    body.push(0x42, ...sleb(P1), 0x7e, 0x21, lane(i)); // * P1 -> lane
  }
  body.push(0x20, p, 0x41, 32, 0x6a, 0x22, p); // p += 32
  body.push(0x20, end, 0x49, 0x0d, 0); // br_if p < end (loop)
  body.push(0x0b, 0x0b); // end loop, end block
  for (let i = 0; i < 4; i++) body.push(0x20, acc, 0x20, lane(i), 0x37, 3, 8 * i); // store lanes
  body.push(0x0b);
  const name = [...'stripes'].map((c) => c.charCodeAt(0));
  return Uint8Array.from([
    ...MAGIC_AND_VERSION,
    ...section(1, [1, 0x60, 3, 0x7f, 0x7f, 0x7f, 0]), // types: (i32, i32, i32) -> ()
    ...section(2, [1, 1, 0x6d, 3, 0x6d, 0x65, 0x6d, 0x02, 0x00, 1]), // imports: memory m.mem, min 1 page
    ...section(3, [1, 0]), // functions: one, of type 0
    ...section(7, [1, name.length, ...name, 0x00, 0]), // exports: "stripes" = function 0
    ...section(10, [1, ...uleb(body.length), ...body]), // code
  ]);
}

// Node has WebAssembly; the TypeScript lib this project compiles with (ES2022, no DOM) lacks it.
interface Wasm {
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly: Wasm }).WebAssembly;

let compiled: object | undefined;

/** The stream's four lanes, then the bytes after its last whole stripe (fewer than 32), in page 0. */
const LANES = 0;
const CARRY = 64;
const PAGE = 65536;

/**
 * One XXH64 stream over a memory of its own, with `regions` read buffers of `chunk` bytes, each
 * page-aligned (the kernel's copy into a destination off a page boundary is up to 3x slower; see
 * pageAlignedBuffer in checksum.ts). Reused across files: fresh memory costs more to first touch
 * than hashing it. Bytes after the last whole stripe of a read are set aside and put back in front
 * of the next read's data (in the page before each region), so reads of any size give the same digest.
 */
export class Xxh64Stream {
  private readonly memory: { buffer: ArrayBuffer };
  private readonly stripes: (acc: number, p: number, end: number) => void;
  private readonly lanes: BigUint64Array;
  private readonly bytes: Buffer;
  private carry = 0;
  private total = 0;

  constructor(
    readonly chunk: number,
    readonly regions: number,
  ) {
    this.memory = new wasm.Memory({ initial: 1 + regions * (1 + Math.ceil(chunk / PAGE)) });
    compiled ??= new wasm.Module(kernelBytes());
    const instance = new wasm.Instance(compiled, { m: { mem: this.memory } });
    this.stripes = instance.exports.stripes as (acc: number, p: number, end: number) => void;
    this.lanes = new BigUint64Array(this.memory.buffer, LANES, 4);
    this.bytes = Buffer.from(this.memory.buffer);
  }

  /** Region i's read buffer: page-aligned, `chunk` bytes, with a page before it for carried bytes. */
  region(i: number): Buffer {
    return this.bytes.subarray(this.regionStart(i), this.regionStart(i) + this.chunk);
  }

  private regionStart(i: number): number {
    return PAGE * (2 + i * (1 + Math.ceil(this.chunk / PAGE)));
  }

  /** Starts a new digest (seed 0, as `xxhsum -H1`). */
  reset(): void {
    this.lanes[0] = u64(P1 + P2);
    this.lanes[1] = P2;
    this.lanes[2] = 0n;
    this.lanes[3] = u64(-P1);
    this.carry = 0;
    this.total = 0;
  }

  /** Hashes the first `n` bytes of region i (read there since the last update). */
  update(i: number, n: number): void {
    const start = this.regionStart(i);
    if (this.carry > 0) this.bytes.copyWithin(start - this.carry, CARRY, CARRY + this.carry);
    const from = start - this.carry;
    const whole = (this.carry + n) & ~31;
    this.stripes(LANES, from, from + whole);
    this.carry = this.carry + n - whole;
    // Set aside now: the next read may land on these very bytes.
    this.bytes.copyWithin(CARRY, from + whole, from + whole + this.carry);
    this.total += n;
  }

  /** The digest of everything updated since reset(). */
  digest(): bigint {
    const [v1, v2, v3, v4] = this.lanes as unknown as [bigint, bigint, bigint, bigint];
    let h: bigint;
    if (this.total >= 32) {
      h = u64(rotl(v1, 1n) + rotl(v2, 7n) + rotl(v3, 12n) + rotl(v4, 18n));
      for (const v of [v1, v2, v3, v4]) h = u64((h ^ round(0n, v)) * P1 + P4);
    } else h = P5;
    h = u64(h + BigInt(this.total));
    let at = CARRY;
    let left = this.carry;
    for (; left >= 8; left -= 8, at += 8) {
      h = u64(rotl(h ^ round(0n, this.bytes.readBigUInt64LE(at)), 27n) * P1 + P4);
    }
    if (left >= 4) {
      h = u64(rotl(h ^ u64(BigInt(this.bytes.readUInt32LE(at)) * P1), 23n) * P2 + P3);
      left -= 4;
      at += 4;
    }
    for (; left > 0; left--, at++) h = u64(rotl(h ^ u64(BigInt(this.bytes[at]!) * P5), 11n) * P1);
    h = u64((h ^ (h >> 33n)) * P2);
    h = u64((h ^ (h >> 29n)) * P3);
    return h ^ (h >> 32n);
  }
}

function round(acc: bigint, input: bigint): bigint {
  return u64(rotl(u64(acc + input * P2), 31n) * P1);
}
