/**
 * `smoke.1nn`: stored embeddings, sampled deterministically (mulberry32, seeded) from the index's id
 * map, are searched in the index (in the probe, with the tuning applied) and must come back with
 * their own id at rank 1.
 *
 * A sample counts as found when the rank-1 hit is its own id, or when the rank-1 hit is at least as
 * close as the sample is to itself (within float32 rounding): a duplicate vector under another id
 * for l2 and cosine, or, for the ip metric, a vector whose inner product beats the sample's own.
 * Exact indexes (family flat) must find every sample; approximate ones need recall@1 at or above
 * the tuning's recall_at_k, or DEFAULT_MIN_RECALL without tuning.
 */
import type { Catalog } from '../catalog/open.js';
import { familyFromFactory, type Manifest } from '../manifest/schema.js';
import { mulberry32 } from '../util/random.js';
import { ProbeCrash, type IndexProbe } from './probe-client.js';
import type { IndexFacts } from './probe-protocol.js';
import { SHOW } from './idmap-checks.js';
import { Check, DEFAULT_MIN_RECALL, firstOf, type CheckResult } from './types.js';

/** k of an approximate search without a tuned k, and how deep a missed sample's own id is looked for. */
const K = 10;
/** Rounding allowance, relative to the sample's squared norm, for calling a distance a tie. */
const TIE = 1e-5;

export interface SmokeOptions {
  samples: number;
  seed: number;
  /** Whether index.params put the tuning in effect in the probe. */
  tuningApplied: boolean;
}

/** `count` distinct rows of `n`, the same for the same seed; all rows when count >= n. */
export function sampleRows(n: number, count: number, seed: number): number[] {
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  const next = mulberry32(seed);
  const picked = new Set<number>();
  while (picked.size < count) picked.add(Math.floor(next() * n));
  return [...picked];
}

function normalizeRows(vectors: Float32Array, dim: number): void {
  for (let row = 0; row < vectors.length / dim; row++) {
    let sum = 0;
    for (let j = row * dim; j < (row + 1) * dim; j++) sum += vectors[j]! * vectors[j]!;
    if (sum === 0) continue;
    const scale = 1 / Math.sqrt(sum);
    for (let j = row * dim; j < (row + 1) * dim; j++) vectors[j]! *= scale;
  }
}

function squaredNorm(vectors: Float32Array, row: number, dim: number): number {
  let sum = 0;
  for (let j = row * dim; j < (row + 1) * dim; j++) sum += vectors[j]! * vectors[j]!;
  return sum;
}

/**
 * Samples whose rank-1 hit is neither their own id nor a tie with their own distance: 0 for l2 (and
 * cosine, whose unit vectors are searched by inner product: self-score 1 = ||q||^2), ||q||^2 for ip.
 */
function misses(
  l2: boolean,
  ids: BigInt64Array,
  queries: Float32Array,
  dim: number,
  top: { distances: Float32Array; labels: BigInt64Array },
  k: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    if (top.labels[i * k] === ids[i]) continue;
    const norm = squaredNorm(queries, i, dim);
    const slack = TIE * Math.max(1, norm);
    const d0 = top.distances[i * k]!;
    if (l2 ? d0 <= slack : d0 >= norm - slack) continue;
    out.push(i);
  }
  return out;
}

/** For each listed sample (index into the sample), its own id's rank in `result` (k per query), or -1. */
function ranksIn(
  result: { labels: BigInt64Array },
  k: number,
  samples: number[],
  ids: BigInt64Array,
): Map<number, number> {
  const ranks = new Map<number, number>();
  for (const i of samples) {
    let rank = -1;
    for (let r = 0; r < k && rank < 0; r++) if (result.labels[i * k + r] === ids[i]) rank = r + 1;
    ranks.set(i, rank);
  }
  return ranks;
}

/** Like ranksIn, from a second, deeper search of just those samples. */
async function ownRanks(
  probe: IndexProbe,
  queries: Float32Array,
  dim: number,
  missed: number[],
  ids: BigInt64Array,
  k: number,
): Promise<Map<number, number>> {
  const ranks = new Map<number, number>();
  if (missed.length === 0) return ranks;
  const again = new Float32Array(missed.length * dim);
  missed.forEach((i, j) => again.set(queries.subarray(i * dim, (i + 1) * dim), j * dim));
  const deeper = await probe.search(again, k);
  const byPosition = ranksIn(
    deeper,
    k,
    missed.map((_, j) => j),
    BigInt64Array.from(missed, (i) => ids[i]!),
  );
  missed.forEach((i, j) => ranks.set(i, byPosition.get(j)!));
  return ranks;
}

export async function checkSmoke(
  manifest: Manifest,
  facts: IndexFacts & { idMap: BigInt64Array },
  catalog: Catalog,
  probe: IndexProbe,
  options: SmokeOptions,
): Promise<CheckResult> {
  const check = new Check('smoke.1nn');
  const n = facts.idMap.length;
  if (n === 0) return check.pass('the index is empty: nothing to sample');
  const rows = sampleRows(n, options.samples, options.seed);
  const ids = BigInt64Array.from(rows, (r) => facts.idMap[r]!);
  let stored;
  try {
    stored = await catalog.embeddingsByIds(ids);
  } catch (err) {
    return check.failWith(err);
  }
  if (stored.missing.length > 0) {
    return check.fail(
      `${stored.missing.length} sampled id${stored.missing.length === 1 ? ' has' : 's have'} no stored embedding ` +
        `in chunks: ${firstOf(stored.missing.slice(0, SHOW), stored.missing.length)}`,
      3,
    );
  }
  if (stored.dim !== facts.d) {
    return check.fail(`stored embeddings have ${stored.dim} values, the index has d = ${facts.d}`, 3);
  }
  const queries = stored.vectors;
  const dim = facts.d;
  if (manifest.metric === 'cosine') normalizeRows(queries, dim);
  const exact = familyFromFactory(manifest.faiss_factory) === 'flat';
  // Exact indexes search with k = 1: FAISS's single-best path is several times faster than a k-heap
  // over a large Flat index, and an exact rank 1 does not depend on k. Approximate ones search at
  // their operating point (the tuning's k, else K): a refine stage, for one, re-ranks k * k_factor
  // candidates, so its rank 1 at k = 1 is not the rank 1 a caller asking for 10 gets.
  const k = Math.min(n, exact ? 1 : (manifest.tuning?.k ?? K));
  const deepK = Math.min(n, K);
  let result;
  let missed: number[];
  let ranks: Map<number, number>;
  try {
    result = await probe.search(queries, k);
    missed = misses(manifest.metric === 'l2', stored.found, queries, dim, result, k);
    const shown = missed.slice(0, SHOW);
    ranks =
      k >= deepK
        ? ranksIn(result, k, shown, stored.found)
        : await ownRanks(probe, queries, dim, shown, stored.found, deepK);
  } catch (err) {
    if (err instanceof ProbeCrash) {
      return check.fail(`faiss.index crashed FAISS during the smoke search (${err.message})`, 4);
    }
    return check.failWith(err);
  }
  const missText = missed.slice(0, SHOW).map((i) => {
    const rank = ranks.get(i)!;
    const where = rank > 0 ? `own id at rank ${rank}` : `own id not in top ${Math.max(k, deepK)}`;
    return `id ${stored.found[i]} -> ${result.labels[i * k]} (${where})`;
  });
  const found = stored.found.length - missed.length;
  const total = stored.found.length;
  const recall = found / total;
  const threshold = exact ? 1 : (manifest.tuning?.recall_at_k ?? DEFAULT_MIN_RECALL);
  const basis = exact
    ? 'exact index: every sample'
    : manifest.tuning?.recall_at_k != null
      ? `tuning recall_at_k ${threshold}`
      : `default ${threshold} (untuned)`;
  const params = options.tuningApplied ? 'tuning applied' : 'parameters as stored';
  const summary =
    `recall@1 ${recall.toFixed(3)} (${found}/${total} sampled, seed ${options.seed}, k ${k}, ${params}; ` +
    `search ${Math.round(result.ms)} ms), needs ${basis}`;
  const shown = missed.length > 0 ? `; misses: ${firstOf(missText, missed.length)}` : '';
  return recall >= threshold ? check.pass(summary + shown) : check.fail(summary + shown, 3);
}
