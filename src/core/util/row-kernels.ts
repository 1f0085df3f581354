/**
 * Per-row work over float32 batches that every build does for every vector: the non-finite check
 * of the decoded embeddings and the per-chunk XXH64. The addon's kernels (native/kernels.cc) run
 * them faster (per million 384-d rows: the check 0.18 s against 0.85 s in JS, the hash 0.35 s
 * against xxhash-wasm's 0.57 s; docs/PERFORMANCE.md). An addon without them (built without Debian's
 * libxxhash-dev, or older than this module) leaves the JS fallbacks, which give the same answers
 * (test/row-kernels.test.ts). The addon is loaded on first use, not on import.
 */
import { loadNative, type NativeAddon } from '../faiss/native.js';

let addon: NativeAddon | undefined;

function native(): NativeAddon {
  addon ??= loadNative();
  return addon;
}

/** The rows of `values` (rows x dim) holding a NaN or +-Inf, ascending. */
export function nonFiniteRows(values: Float32Array, dim: number): number[] {
  const kernel = native().nonFiniteRows;
  return kernel ? kernel(values, dim) : nonFiniteRowsJs(values, dim);
}

/** Whether the addon hashes rows itself (else the caller hashes with xxhash-wasm). */
export function nativeHashRows():
  ((values: Float32Array, dim: number, out: BigUint64Array) => void) | undefined {
  return native().hashRows;
}

export function nonFiniteRowsJs(values: Float32Array, dim: number): number[] {
  // x - x is 0 for every finite x and NaN for NaN and +-Inf, so one sum tells whether to look closer.
  // Four accumulators let V8 overlap the additions: 1.5x faster than one, measured.
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  const n = values.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    a += values[i]! - values[i]!;
    b += values[i + 1]! - values[i + 1]!;
    c += values[i + 2]! - values[i + 2]!;
    d += values[i + 3]! - values[i + 3]!;
  }
  for (; i < n; i++) a += values[i]! - values[i]!;
  if (a + b + c + d === 0) return [];
  const rows: number[] = [];
  for (let row = 0; row * dim < values.length; row++) {
    for (let j = row * dim, end = j + dim; j < end; j++) {
      if (values[j]! - values[j]! !== 0) {
        rows.push(row);
        break;
      }
    }
  }
  return rows;
}
