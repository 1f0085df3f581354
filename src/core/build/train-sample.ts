/**
 * The deterministic training sample: the same rows for the same file, size and seed, so a rebuild
 * trains the same quantizers. Rows are picked by a seeded partial Fisher-Yates shuffle and gathered
 * while the batches stream by, so the sample costs s x d floats, never the whole file.
 */
import { mulberry32 } from '../util/random.js';

/** s distinct row numbers in [0, n), ascending. */
export function sampleRows(n: number, s: number, seed: number): Uint32Array {
  if (s >= n) return Uint32Array.from({ length: n }, (_, i) => i);
  const rows = Uint32Array.from({ length: n }, (_, i) => i);
  const next = mulberry32(seed);
  for (let i = 0; i < s; i++) {
    const j = i + Math.floor(next() * (n - i));
    const t = rows[i]!;
    rows[i] = rows[j]!;
    rows[j] = t;
  }
  return rows.subarray(0, s).sort();
}

/** Collects the sampled rows from batches that arrive in row order. */
export class SampleGatherer {
  readonly vectors: Float32Array;
  private next = 0;

  constructor(
    private readonly rows: Uint32Array,
    private readonly dim: number,
  ) {
    this.vectors = new Float32Array(rows.length * dim);
  }

  /** Offers one batch starting at row `rowOffset`. */
  offer(vectors: Float32Array, rowOffset: number): void {
    const count = vectors.length / this.dim;
    const { rows, dim } = this;
    while (this.next < rows.length && rows[this.next]! < rowOffset + count) {
      const local = rows[this.next]! - rowOffset;
      this.vectors.set(vectors.subarray(local * dim, (local + 1) * dim), this.next * dim);
      this.next++;
    }
  }

  get complete(): boolean {
    return this.next === this.rows.length;
  }
}
