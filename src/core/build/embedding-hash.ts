/**
 * Per-chunk embedding hashes: XXH64 (seed 0) of each row's float32 bytes exactly as added to the
 * index (after the cosine normalization), so an incremental build (incremental.ts) can tell a
 * changed embedding from an unchanged one without reading the base's vectors. Computed during the
 * add pass by the addon's kernel (row-kernels.ts); xxhash-wasm took 0.4-0.6 s per million 384-d rows.
 */
import type { EmbeddingHashes } from '../catalog/embedding-hash.js';
import { loadXxh64 } from '../checksum.js';
import { nativeHashRows } from '../util/row-kernels.js';

export type { EmbeddingHashes } from '../catalog/embedding-hash.js';

export class HashCollector {
  readonly ids: BigInt64Array;
  readonly hashes: BigUint64Array;

  constructor(
    rows: number,
    private readonly dim: number,
  ) {
    this.ids = new BigInt64Array(rows);
    this.hashes = new BigUint64Array(rows);
  }

  /** Hashes a batch of rows starting at file row `rowOffset`. */
  async offer(ids: BigInt64Array, vectors: Float32Array, rowOffset: number): Promise<void> {
    this.ids.set(ids, rowOffset);
    await hashRows(vectors, this.dim, this.hashes.subarray(rowOffset, rowOffset + ids.length));
  }

  get result(): EmbeddingHashes {
    return { ids: this.ids, hashes: this.hashes };
  }
}

/** XXH64 of each of the `out.length` rows of `vectors` (rows x dim float32), into `out`. */
export async function hashRows(vectors: Float32Array, dim: number, out: BigUint64Array): Promise<void> {
  const kernel = nativeHashRows();
  if (kernel) {
    kernel(vectors.subarray(0, out.length * dim), dim, out);
    return;
  }
  await hashRowsWasm(vectors, dim, out);
}

/** The same through xxhash-wasm: the fallback, and the reference the native kernel is tested against. */
export async function hashRowsWasm(vectors: Float32Array, dim: number, out: BigUint64Array): Promise<void> {
  const api = await loadXxh64();
  const bytes = new Uint8Array(vectors.buffer, vectors.byteOffset, out.length * dim * 4);
  const rowBytes = dim * 4;
  for (let r = 0; r < out.length; r++) {
    out[r] = api.h64Raw(bytes.subarray(r * rowBytes, (r + 1) * rowBytes), 0n);
  }
}

/** The same pairs sorted by id (for binary search); the input is left as it was. */
export function sortedById(h: EmbeddingHashes): EmbeddingHashes {
  const order = Uint32Array.from({ length: h.ids.length }, (_, i) => i);
  order.sort((a, b) => (h.ids[a]! < h.ids[b]! ? -1 : h.ids[a]! > h.ids[b]! ? 1 : 0));
  return {
    ids: BigInt64Array.from(order, (i) => h.ids[i]!),
    hashes: BigUint64Array.from(order, (i) => h.hashes[i]!),
  };
}

/** Position of `id` in sorted `ids`, or -1. */
export function findId(ids: BigInt64Array, id: bigint): number {
  let lo = 0;
  let hi = ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = ids[mid]!;
    if (v === id) return mid;
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
