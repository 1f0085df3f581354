/**
 * Per-chunk validation of embeddings during a pass: null rows, mixed dimensions, null values, NaN/Inf
 * and (when normalizing) all-zero rows, each recorded in a BadRows so the error can count over the
 * whole file.
 */
import { inverseNorms } from './cosine.js';
import { anyInvalid, isValid, type ChunkViews } from './duckdb-chunk.js';
import { BadRows, markNonFinite } from './validate.js';

/** A run of validated rows in row order, in buffers that are reused or dropped with the next chunk. */
export interface Piece {
  ids: BigInt64Array;
  vectors: Float32Array;
  rowOffset: number;
  rows: number;
  /** 1/norm per row when normalizing. */
  scales: Float32Array | undefined;
}

/** One per pass: it owns the pass's scratch buffers and its BadRows. */
export class ChunkChecker {
  readonly bad = new BadRows();
  private scratch = new Float32Array(0);
  private scales = new Float32Array(0);

  constructor(
    private readonly dim: number,
    private readonly normalize: boolean,
  ) {}

  /**
   * Validates one chunk and returns its rows when they are all good. The fast path (every row
   * present, of length dim, back to back in the child vector) checks the whole block at once; a
   * chunk with layout faults is checked row by row so the other faults are still counted.
   */
  check(v: ChunkViews, rowOffset: number): Piece | undefined {
    const { dim, bad } = this;
    const { rows, ids, entries, values } = v;
    let layoutOk = true;
    let contiguous = true;
    const first = entries[0]!;
    for (let i = 0; i < rows; i++) {
      if (!isValid(v.listValidity, i)) {
        bad.add('null', ids[i]!);
        layoutOk = false;
        continue;
      }
      const length = entries[4 * i + 2]!;
      if (length !== dim) {
        bad.add('dimension', ids[i]!, length);
        layoutOk = false;
      }
      if (entries[4 * i] !== first + i * dim) contiguous = false;
    }
    if (!layoutOk) {
      for (let i = 0; i < rows; i++) {
        if (!isValid(v.listValidity, i) || entries[4 * i + 2] !== dim) continue;
        const at = entries[4 * i]!;
        this.checkValues(v, values.subarray(at, at + dim), at, ids.subarray(i, i + 1));
      }
      return undefined;
    }
    let vectors: Float32Array;
    if (contiguous) {
      vectors = values.subarray(first, first + rows * dim);
    } else {
      if (this.scratch.length < rows * dim) this.scratch = new Float32Array(rows * dim);
      for (let i = 0; i < rows; i++)
        this.scratch.set(values.subarray(entries[4 * i]!, entries[4 * i]! + dim), i * dim);
      vectors = this.scratch.subarray(0, rows * dim);
    }
    const scales = this.checkValues(v, vectors, contiguous ? first : -1, ids);
    return bad.any ? undefined : { ids, vectors, rowOffset, rows, scales };
  }

  /**
   * `vectors` holds ids.length rows; `childStart` is where they begin in the child vector when they
   * are back to back there, else -1 (then each row's offset comes from the list entries).
   */
  private checkValues(
    v: ChunkViews,
    vectors: Float32Array,
    childStart: number,
    ids: BigInt64Array,
  ): Float32Array | undefined {
    const { dim, bad } = this;
    const rows = ids.length;
    const nulls = v.valueValidity;
    if (nulls !== null && (childStart < 0 || anyInvalid(nulls, childStart, childStart + rows * dim))) {
      for (let i = 0; i < rows; i++) {
        const at = childStart >= 0 ? childStart + i * dim : v.entries[4 * i]!;
        if (anyInvalid(nulls, at, at + dim)) bad.add('nullValue', ids[i]!);
      }
    }
    if (!this.normalize) {
      markNonFinite(vectors, dim, (row) => bad.add('nonFinite', ids[row]!));
      return undefined;
    }
    if (this.scales.length < rows) this.scales = new Float32Array(rows);
    const scales = this.scales.subarray(0, rows);
    inverseNorms(vectors, dim, scales, (row, kind) => bad.add(kind, ids[row]!));
    return scales;
  }
}
