/**
 * Measuring one operating point, the ann-benchmarks way:
 * 1. the parameters are set on the index (FAISS 1.7.3 has no per-query parameters through IDMap);
 * 2. one batch search of every query gives the answers for recall, and warms caches (mmapped IVF
 *    lists are paged in here);
 * 3. `runs` timed batch searches at the configured threads give QPS (the best run);
 * 4. `runs` passes searching one query at a time on one thread give the latency distribution; the
 *    pass with the lowest total is reported (p50/p95/p99, numpy's linear interpolation).
 * Searches ask for k + 1 neighbours when queries are sampled from the index (the query's own id is
 * dropped), so the work timed is the work whose recall is reported.
 */
import { FaissIndex } from '../faiss/index.js';
import type { GroundTruth } from './ground-truth.js';
import { dropSelf, recallAtK } from './recall.js';

export interface Latency {
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

export interface PointMeasurement {
  recall: number;
  /** Hits counted through the distance tie rule rather than id identity. */
  tieHits: number;
  /** Milliseconds per query, one thread, one query per call. */
  latencyMs: Latency;
  /** Queries per second, all queries in one call, at the configured threads. */
  qps: number;
  /** Wall time this point took to measure (all runs). */
  seconds: number;
  /** `getParameters()` while measuring: every knob's value, swept or not. */
  effective: Record<string, number>;
}

export interface MeasureOptions {
  runs: number;
  threads: number;
  epsilon: number;
  /** Cancellation, checked between timed searches. */
  signal?: AbortSignal;
}

/**
 * The single-query pass is synchronous, and a blocked event loop cannot even see a signal: it yields
 * this often (outside the timed calls, so no latency includes it) and checks for cancellation.
 */
const YIELD_EVERY_MS = 100;

/** numpy.percentile's default (linear) on a sorted array. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const at = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (at - lo);
}

export async function measurePoint(
  index: FaissIndex,
  spec: string,
  truth: GroundTruth,
  options: MeasureOptions,
): Promise<PointMeasurement> {
  const started = performance.now();
  if (spec !== '') index.setParameters(spec);
  const effective = index.getParameters();
  const { k, queries, selfIds, nq, dim } = truth;
  const kIn = selfIds ? k + 1 : k;

  FaissIndex.setNumThreads(options.threads);
  const answer = await index.searchAsync(queries, kIn);
  const recall = recallAtK({
    k,
    metric: truth.metric,
    epsilon: options.epsilon,
    truthIds: truth.ids,
    truthKth: truth.kth,
    answerIds: dropSelf(answer.labels, kIn, k, selfIds),
    distanceTo: truth.distanceTo,
  });

  let best = Infinity;
  for (let run = 0; run < options.runs; run++) {
    options.signal?.throwIfAborted();
    const t = performance.now();
    await index.searchAsync(queries, kIn);
    best = Math.min(best, performance.now() - t);
  }

  let bestRun: Float64Array | undefined;
  let bestTotal = Infinity;
  FaissIndex.setNumThreads(1);
  try {
    for (let run = 0; run < options.runs; run++) {
      const times = new Float64Array(nq);
      let total = 0;
      let lastYield = performance.now();
      for (let q = 0; q < nq; q++) {
        if (performance.now() - lastYield >= YIELD_EVERY_MS) {
          await new Promise((resolve) => setImmediate(resolve));
          options.signal?.throwIfAborted();
          lastYield = performance.now();
        }
        const one = queries.subarray(q * dim, (q + 1) * dim);
        const t = process.hrtime.bigint();
        index.search(one, kIn);
        times[q] = Number(process.hrtime.bigint() - t) / 1e6;
        total += times[q]!;
      }
      if (total < bestTotal) {
        bestTotal = total;
        bestRun = times;
      }
    }
  } finally {
    FaissIndex.setNumThreads(options.threads);
  }
  const sorted = bestRun!.sort();
  return {
    recall: recall.recall,
    tieHits: recall.tieHits,
    latencyMs: {
      p50: percentile(sorted, 50),
      p95: percentile(sorted, 95),
      p99: percentile(sorted, 99),
      mean: bestTotal / nq,
    },
    qps: nq / (best / 1000),
    seconds: (performance.now() - started) / 1000,
    effective,
  };
}
