/**
 * What a build will do, before it does it: the factory (given, or chosen by `auto` from the vector
 * count, dimension and memory budget, after the FAISS guidelines), the training sample, and
 * estimates of index bytes, peak memory and time. `--dry-run` prints this; a plan over
 * `--memory-budget` is refused before any work.
 */
import { UsageError } from '../errors.js';
import { formatBytes } from '../util/units.js';

export type BuildMetric = 'l2' | 'ip' | 'cosine';

export interface BuildPlan {
  factory: string;
  /** Why this factory (auto), or "given". */
  reason: string;
  metric: BuildMetric;
  vectors: number;
  dim: number;
  /** Vectors used to train (0 when the index needs no training). */
  trainSample: number;
  estimatedIndexBytes: number;
  estimatedPeakBytes: number;
  estimatedSeconds: number;
  memoryBudgetBytes?: number;
}

export interface PlanInput {
  vectors: number;
  dim: number;
  factory: string;
  metric: BuildMetric;
  memoryBudgetBytes?: number;
  trainSample?: number;
  /** Floats per row group of the input: the one batch held besides the index. */
  rowGroupRows: number;
  /**
   * FAISS's `is_trained` of the constructed index, negated (factory-probe). Unknown before the
   * factory is tried: the sample is then estimated from the string.
   */
  needsTraining?: boolean;
  /** The fewest vectors the factory trains on (factory.ts minimumTrainVectors). */
  minTrainVectors?: number;
}

/** nlist per the FAISS guidelines: about 4-16 x sqrt(n), a power of two, at least 39 points per list. */
export function chooseNlist(n: number): number {
  const target = 4 * Math.sqrt(n);
  let nlist = 2 ** Math.round(Math.log2(Math.max(target, 1)));
  while (nlist > 1 && n / nlist < 39) nlist /= 2;
  return Math.max(1, nlist);
}

/** PQ sub-quantizers: d/8 (so 48 for 384-d), dividing d; 4-bit fast-scan codes. */
export function choosePqM(d: number): number {
  for (const bytesPerSub of [8, 4, 2, 1]) {
    const m = d / bytesPerSub;
    if (Number.isInteger(m) && m <= 64) return m;
  }
  return 1;
}

interface Parsed {
  nlist?: number;
  hnswM?: number;
  pqM?: number;
  pqBits?: number;
  refineFlat: boolean;
  flat: boolean;
}

/** Reads the parts of a factory string that size the index. Unknown parts are left to FAISS. */
function parseFactory(factory: string): Parsed {
  const parts = factory.split(',').map((p) => p.trim());
  const out: Parsed = { refineFlat: false, flat: false };
  for (const part of parts) {
    let m: RegExpExecArray | null;
    if ((m = /^IVF(\d+)/.exec(part))) out.nlist = Number(m[1]);
    if ((m = /^HNSW(\d+)/.exec(part))) out.hnswM = Number(m[1]);
    if ((m = /^PQ(\d+)(?:x(\d+))?/.exec(part))) {
      out.pqM = Number(m[1]);
      out.pqBits = m[2] ? Number(m[2]) : 8;
    }
    if (part === 'RFlat' || part === 'Refine(Flat)') out.refineFlat = true;
    if (part === 'Flat') out.flat = true;
  }
  return out;
}

/** Index bytes as FAISS will hold them (codes + ids + graph/centroids), a close estimate. */
export function estimateIndexBytes(factory: string, n: number, d: number): number {
  const p = parseFactory(factory);
  const idBytes = 16 * n; // id_map (8) + rev_map hash entry (~8 amortized; more in practice)
  const raw = 4 * d * n;
  let bytes: number;
  if (p.hnswM !== undefined && p.nlist === undefined) {
    bytes = raw + n * p.hnswM * 2 * 4 * 1.1; // level-0 has 2M links of 4 bytes, upper levels ~10% more
  } else if (p.nlist !== undefined) {
    const centroids = 4 * d * p.nlist + (p.hnswM ? p.nlist * p.hnswM * 2 * 4 * 1.1 : 0);
    const codes = p.pqM !== undefined ? (n * p.pqM * (p.pqBits ?? 8)) / 8 : raw;
    bytes = centroids + codes + 8 * n; // IVF lists keep an id per entry
    if (p.refineFlat) bytes += raw;
  } else {
    bytes = raw; // Flat, and a fallback for factory strings this estimator does not know
  }
  return Math.ceil(bytes + idBytes);
}

/**
 * Default training sample per the FAISS guidance: 39-256 points per centroid, and enough for PQ; 0
 * when FAISS says the index is trained already.
 */
export function defaultTrainSample(
  factory: string,
  n: number,
  needsTraining?: boolean,
  minTrain = 0,
): number {
  if (needsTraining === false) return 0;
  const p = parseFactory(factory);
  if (needsTraining === undefined && p.nlist === undefined && p.pqM === undefined) return 0;
  const forIvf = p.nlist !== undefined ? 64 * p.nlist : 0;
  const forPq = p.pqM !== undefined ? 2 ** (p.pqBits ?? 8) * 64 : 0;
  return Math.min(n, Math.max(forIvf, forPq, 64 * minTrain, 10_000));
}

/** Rough single-machine rates (this 2-core AVX2 VM, docs/PERFORMANCE.md), for the time estimate. */
function estimateSeconds(factory: string, n: number, d: number, trainSample: number): number {
  const p = parseFactory(factory);
  const scale = d / 384;
  const ingest = (n * d * 4) / 400e6; // Parquet -> Float32Array
  let add = (n * scale) / 500_000;
  if (p.hnswM !== undefined && p.nlist === undefined) add = (n * scale * (p.hnswM / 32)) / 1_500;
  else if (p.nlist !== undefined) add = (n * scale * Math.max(1, p.nlist / 1024)) / 80_000;
  const train = p.nlist !== undefined ? (trainSample * scale * Math.max(1, p.nlist / 1024)) / 12_000 : 0;
  const write = (estimateIndexBytes(factory, n, d) * 2) / 1e9; // write + checksum
  return ingest + train + add + write;
}

/** The auto choice: Flat while small, HNSW32 when memory allows, else IVF-Flat, else IVF-PQ + refine. */
function autoFactory(n: number, d: number, budget: number | undefined): { factory: string; reason: string } {
  const fits = (f: string) =>
    budget === undefined || estimateIndexBytes(f, n, d) * 1.2 + 4 * d * 65_536 <= budget;
  const nlist = chooseNlist(n);
  const m = choosePqM(d);
  const options: { factory: string; reason: string; when: boolean }[] = [
    { factory: 'Flat', reason: `${n} vectors: exact search is fast enough below 100k`, when: n < 100_000 },
    {
      factory: 'HNSW32',
      reason: `${n} vectors: HNSW32 gives high recall at low latency and fits the budget`,
      when: n <= 2_000_000,
    },
    {
      factory: `IVF${nlist},Flat`,
      reason: `IVF with nlist=${nlist} (~4*sqrt(n)) keeps full vectors and fits the budget`,
      when: true,
    },
    {
      factory: `IVF${nlist},PQ${m}x4fs,RFlat`,
      reason: `IVF-PQ fast-scan with exact refine: compact codes, full-precision re-ranking`,
      when: true,
    },
    { factory: `IVF${nlist},PQ${m}x4fs`, reason: `only compressed codes fit the memory budget`, when: true },
  ];
  for (const o of options) if (o.when && fits(o.factory)) return { factory: o.factory, reason: o.reason };
  const last = options[options.length - 1]!;
  return { factory: last.factory, reason: `nothing fits the budget; smallest option` };
}

export function planBuild(input: PlanInput): BuildPlan {
  const { vectors: n, dim: d } = input;
  const chosen =
    input.factory === 'auto'
      ? autoFactory(n, d, input.memoryBudgetBytes)
      : { factory: input.factory, reason: 'given' };
  const trainSample =
    input.needsTraining === false
      ? 0
      : Math.min(
          n,
          input.trainSample ??
            defaultTrainSample(chosen.factory, n, input.needsTraining, input.minTrainVectors),
        );
  const indexBytes = estimateIndexBytes(chosen.factory, n, d);
  // Peak: the index, one row group of floats, the training sample, and every id once (duplicate check).
  const peak = indexBytes + 4 * d * input.rowGroupRows + 4 * d * trainSample + 8 * n + 256 * 1024 ** 2;
  return {
    factory: chosen.factory,
    reason: chosen.reason,
    metric: input.metric,
    vectors: n,
    dim: d,
    trainSample,
    estimatedIndexBytes: indexBytes,
    estimatedPeakBytes: peak,
    estimatedSeconds: estimateSeconds(chosen.factory, n, d, trainSample),
    ...(input.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: input.memoryBudgetBytes } : {}),
  };
}

/** Refuses a plan whose peak memory exceeds the budget (before any work is done). */
export function checkBudget(plan: BuildPlan): void {
  if (plan.memoryBudgetBytes !== undefined && plan.estimatedPeakBytes > plan.memoryBudgetBytes) {
    throw new UsageError(
      `plan for ${plan.factory} needs about ${formatBytes(plan.estimatedPeakBytes)} at peak, over --memory-budget ` +
        `${formatBytes(plan.memoryBudgetBytes)}; raise the budget or choose a smaller index (e.g. --factory auto)`,
    );
  }
}
