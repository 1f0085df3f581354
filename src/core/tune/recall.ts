/**
 * recall@k as ann-benchmarks computes it, in the external-id space: a returned id is a hit when it is
 * one of the k true neighbours, or when its exact distance ties the k-th true distance (an
 * approximate index that returns another of several equidistant vectors is not wrong). Distances for
 * the tie test are recomputed here in float64 from the stored float32 vectors, for both the k-th true
 * neighbour and the returned id: the distances an index reports are approximate (PQ) or rounded
 * differently (BLAS vs. SIMD paths), so comparing them with the truth's would count noise.
 * `epsilon` is relative: a tie is within epsilon x max(1, |k-th distance|).
 */

export type DistanceMetric = 'l2' | 'ip';

/** Squared L2 or inner product of row `qi` of `queries` with `v`, in float64. */
export function exactDistance(
  metric: DistanceMetric,
  queries: Float32Array,
  qi: number,
  v: Float32Array,
): number {
  const d = v.length;
  const base = qi * d;
  let sum = 0;
  if (metric === 'l2') {
    for (let j = 0; j < d; j++) {
      const diff = queries[base + j]! - v[j]!;
      sum += diff * diff;
    }
  } else {
    for (let j = 0; j < d; j++) sum += queries[base + j]! * v[j]!;
  }
  return sum;
}

/** Whether `distance` is as good as `kth`, within the tie tolerance. */
export function withinKth(metric: DistanceMetric, distance: number, kth: number, epsilon: number): boolean {
  const tolerance = epsilon * Math.max(1, Math.abs(kth));
  return metric === 'l2' ? distance <= kth + tolerance : distance >= kth - tolerance;
}

export interface RecallInput {
  k: number;
  metric: DistanceMetric;
  epsilon: number;
  /** nq x k true neighbours, -1 where fewer than k exist. */
  truthIds: BigInt64Array;
  /** Per query: exact distance of its last (k-th) true neighbour. */
  truthKth: Float64Array;
  /** nq x k returned ids, -1 for none. */
  answerIds: BigInt64Array;
  /** Exact distance between query q and the stored vector of `id`. */
  distanceTo: (q: number, id: bigint) => number;
}

export interface RecallResult {
  /** Mean over queries of hits / true neighbours. */
  recall: number;
  perQuery: Float64Array;
  /** Hits that were not among the k true ids but tied the k-th distance. */
  tieHits: number;
}

export function recallAtK(input: RecallInput): RecallResult {
  const { k, metric, epsilon, truthIds, truthKth, answerIds } = input;
  const nq = truthKth.length;
  if (truthIds.length !== nq * k || answerIds.length !== nq * k) {
    throw new RangeError(
      `recallAtK: ${truthIds.length} truth and ${answerIds.length} answer ids for ${nq} x k=${k}`,
    );
  }
  const perQuery = new Float64Array(nq);
  let tieHits = 0;
  let total = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set<bigint>();
    for (let j = q * k; j < (q + 1) * k; j++) if (truthIds[j]! >= 0n) truth.add(truthIds[j]!);
    if (truth.size === 0) {
      perQuery[q] = 1;
      total += 1;
      continue;
    }
    let hits = 0;
    for (let j = q * k; j < (q + 1) * k; j++) {
      const id = answerIds[j]!;
      if (id < 0n) continue;
      if (truth.has(id)) hits++;
      else if (withinKth(metric, input.distanceTo(q, id), truthKth[q]!, epsilon)) {
        hits++;
        tieHits++;
      }
    }
    perQuery[q] = Math.min(hits, truth.size) / truth.size;
    total += perQuery[q]!;
  }
  return { recall: total / nq, perQuery, tieHits };
}

/**
 * Drops each query's own id from a result of kIn = k + 1 columns (a query sampled from the index
 * finds itself) and keeps the first k of the rest; without `self`, keeps the first k columns.
 */
export function dropSelf(
  labels: BigInt64Array,
  kIn: number,
  k: number,
  self: BigInt64Array | undefined,
): BigInt64Array {
  const nq = labels.length / kIn;
  const out = new BigInt64Array(nq * k).fill(-1n);
  for (let q = 0; q < nq; q++) {
    let n = 0;
    for (let j = q * kIn; j < (q + 1) * kIn && n < k; j++) {
      const id = labels[j]!;
      if (self && id === self[q]) continue;
      out[q * k + n++] = id;
    }
  }
  return out;
}
