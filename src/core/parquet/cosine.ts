/**
 * L2 normalization for the cosine metric (cosine = inner product of unit vectors). Norms are summed
 * in float64, so a float32 overflow cannot turn a large but finite vector into Inf.
 */
import { BadInputError } from '../errors.js';
import { EXAMPLES, idList, plural } from './validate.js';

/**
 * Writes 1/||row|| for each row of `values` (rows x dim) into `scales`, and reports rows that cannot
 * be normalized: all-zero rows and rows holding NaN or Inf (whose sum of squares is not finite).
 */
export function inverseNorms(
  values: Float32Array,
  dim: number,
  scales: Float32Array,
  onBad: (row: number, kind: 'zero' | 'nonFinite') => void,
): void {
  const rows = values.length / dim;
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let j = row * dim, end = j + dim; j < end; j++) sum += values[j]! * values[j]!;
    if (sum === 0) onBad(row, 'zero');
    else if (!Number.isFinite(sum)) onBad(row, 'nonFinite');
    scales[row] = 1 / Math.sqrt(sum);
  }
}

/** dest[destOffset + i] = src[i] * scales[row of i]: the copy and the scaling in one pass. */
export function copyScaled(
  src: Float32Array,
  scales: Float32Array,
  dim: number,
  dest: Float32Array,
  destOffset: number,
): void {
  const rows = src.length / dim;
  for (let row = 0; row < rows; row++) {
    const s = scales[row]!;
    const base = row * dim;
    const out = destOffset + base;
    for (let j = 0; j < dim; j++) dest[out + j] = src[base + j]! * s;
  }
}

/**
 * Normalizes each row of `vectors` (n x dim) to unit length in place. Refuses, naming the first ids
 * and the count, rows that are all zero or hold NaN/Inf; nothing is modified in that case.
 * `source` prefixes the message (e.g. the file the vectors came from).
 */
export function normalizeL2(
  vectors: Float32Array,
  dim: number,
  ids: BigInt64Array,
  source = 'vectors',
): void {
  if (
    !Number.isInteger(dim) ||
    dim <= 0 ||
    vectors.length % dim !== 0 ||
    vectors.length / dim !== ids.length
  ) {
    throw new RangeError(
      `normalizeL2: ${vectors.length} floats, dim ${dim} and ${ids.length} ids do not agree`,
    );
  }
  const scales = new Float32Array(ids.length);
  const bad = { zero: [] as bigint[], zeroCount: 0, nonFinite: [] as bigint[], nonFiniteCount: 0 };
  inverseNorms(vectors, dim, scales, (row, kind) => {
    const list = kind === 'zero' ? bad.zero : bad.nonFinite;
    if (list.length < EXAMPLES) list.push(ids[row]!);
    if (kind === 'zero') bad.zeroCount++;
    else bad.nonFiniteCount++;
  });
  if (bad.nonFiniteCount > 0) {
    throw new BadInputError(
      `${source}: ${plural(bad.nonFiniteCount, 'vector has', 'vectors have')} NaN or Inf values (${idList(bad.nonFinite, bad.nonFiniteCount)})`,
    );
  }
  if (bad.zeroCount > 0) {
    throw new BadInputError(
      `${source}: ${plural(bad.zeroCount, 'vector is', 'vectors are')} all zero and cannot be normalized for cosine (${idList(bad.zero, bad.zeroCount)})`,
    );
  }
  copyScaled(vectors, scales, dim, vectors, 0);
}
