/**
 * `tune`: sweeps a version's search-time knobs and measures, per setting, recall@k against exact
 * search and latency/QPS, ann-benchmarks style (see measure.ts, recall.ts, frontier.ts, and
 * docs/search.md). The result is a report; `write` stores the chosen setting as the manifest's
 * `tuning`. A sweep that finds no setting meeting the target is a normal result (`met: false`);
 * the CLI turns it into exit code 3.
 */
import { holdpoint } from '../util/failpoint.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { familyFromFactory } from '../faiss/family.js';
import { packageVersion } from '../build-info.js';
import { UsageError } from '../errors.js';
import { FaissIndex, type ParameterRange } from '../faiss/index.js';
import { requireVersionDir } from '../layout.js';
import { acquireWriterLock } from '../lock.js';
import {
  readManifest,
  TUNING_FAMILIES,
  type IndexFamily,
  type ManifestTuning,
  type TuningFamily,
} from '../manifest/schema.js';
import { normalizeL2 } from '../parquet/cosine.js';
import { loadVersionIndex } from '../search/load-index.js';
import { readQueryVectors } from '../search/query-file.js';
import { parameterSpec } from '../search/tuning-params.js';
import {
  bestRecall,
  canPrune,
  choosePoint,
  estimateCost,
  paretoFrontier,
  type SweepPoint,
} from './frontier.js';
import { groundTruth, type GroundTruth } from './ground-truth.js';
import { measurePoint, type Latency } from './measure.js';
import { writeTuning } from './write-tuning.js';
import {
  DEFAULT_KNOBS,
  combinations,
  parseParamsOption,
  specOf,
  sweepRanges,
  valuesOf,
} from './param-grid.js';

export interface TuneOptions {
  root: string;
  version: string;
  /** Default 10. */
  k?: number;
  /** Default 0.95. */
  targetRecall?: number;
  /** Held-out query vectors: Parquet (embedding column), .npy float32, or raw float32. */
  queries?: string;
  /** Parquet query files; default `embedding`. */
  embeddingColumn?: string;
  /** Stored vectors sampled as queries when `queries` is not given; default 1000. */
  sample?: number;
  /** Seed of the query sample; default 0. */
  seed?: number;
  /** `"nprobe=1,4,16;efSearch=16,64"`; default: ParameterSpace's ranges of the speed/recall knobs. */
  params?: string;
  /** Timed runs per setting (batch QPS and single-query latency each); default 3. */
  runs?: number;
  /** Budget for the sweep (the ground truth is extra); default 60. */
  maxSeconds?: number;
  /** Relative tolerance of the distance tie rule; default 1e-6. */
  epsilon?: number;
  /** FAISS threads for batch QPS (default: as configured, e.g. by --threads). */
  threads?: number;
  /** Store the chosen setting in the manifest. */
  write?: boolean;
  waitSeconds?: number;
  /** DuckDB memory and thread limits (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
  onProgress?: (event: { phase: 'truth' | 'sweep'; done: number; total: number }) => void;
  /** Cancellation: checked between batches of the ground truth and between settings. */
  signal?: AbortSignal;
}

export type PointStatus = 'measured' | 'pruned' | 'cut';

export interface TunePoint {
  /** ParameterSpace string, '' when the index has no knobs. */
  params: string;
  values: Record<string, number>;
  status: PointStatus;
  recall?: number;
  /** Hits counted by the distance tie rule. */
  tie_hits?: number;
  latency_ms?: Latency;
  qps?: number;
  /** Seconds the measurement took. */
  seconds?: number;
  pareto?: boolean;
  chosen?: boolean;
  /** Every knob's value while measured (getParameters). */
  effective?: Record<string, number>;
}

export interface TuneReport {
  version: string;
  dir: string;
  factory: string;
  family: IndexFamily;
  metric: string;
  dim: number;
  vectors: number;
  k: number;
  target_recall: number;
  epsilon: number;
  runs: number;
  max_seconds: number;
  queries: { source: 'sample' | 'file'; file?: string; seed?: number; nq: number; self_excluded: boolean };
  threads: number;
  faiss: { version: string; simd: string };
  ranges: ParameterRange[];
  points: TunePoint[];
  chosen: TunePoint | null;
  /** The highest-recall point (what a sweep that misses the target offers instead). */
  best: TunePoint | null;
  met: boolean;
  /** Settings not measured because the time budget ran out. */
  cut: string[];
  /** Settings skipped because they could not join the frontier. */
  pruned: string[];
  seconds: { load: number; truth_read: number; truth_search: number; sweep: number; total: number };
  /** The tuning for the manifest (null when the target was not met). */
  tuning: ManifestTuning | null;
  written: boolean;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new UsageError(message);
}

function validate(o: TuneOptions) {
  const k = o.k ?? 10;
  const targetRecall = o.targetRecall ?? 0.95;
  const sample = o.sample ?? 1000;
  const runs = o.runs ?? 3;
  const maxSeconds = o.maxSeconds ?? 60;
  const epsilon = o.epsilon ?? 1e-6;
  check(Number.isSafeInteger(k) && k >= 1 && k <= 1 << 20, `k must be a positive integer, got ${k}`);
  check(targetRecall > 0 && targetRecall <= 1, `target recall must be in (0, 1], got ${targetRecall}`);
  check(Number.isSafeInteger(sample) && sample >= 1, `sample must be a positive integer, got ${sample}`);
  check(
    Number.isSafeInteger(runs) && runs >= 1 && runs <= 100,
    `runs must be an integer in [1, 100], got ${runs}`,
  );
  check(maxSeconds > 0 && Number.isFinite(maxSeconds), `max seconds must be positive, got ${maxSeconds}`);
  check(epsilon >= 0 && epsilon < 1, `epsilon must be in [0, 1), got ${epsilon}`);
  if (o.queries !== undefined && o.sample !== undefined) {
    throw new UsageError('give either queries (a file) or a sample size, not both');
  }
  return { k, targetRecall, sample, runs, maxSeconds, epsilon, seed: o.seed ?? 0 };
}

export async function tune(options: TuneOptions): Promise<TuneReport> {
  const t0 = performance.now();
  const v = validate(options);
  const explicit = options.params !== undefined ? parseParamsOption(options.params) : undefined;
  const dir = requireVersionDir(options.root, options.version);
  const manifest = await readManifest(dir);
  const family = familyFromFactory(manifest.faiss_factory);
  if (options.write && family === 'other') {
    throw new UsageError(
      `tune --write: ${manifest.faiss_factory} is not in a family the manifest records ` +
        `(${TUNING_FAMILIES.join(', ')}), so its tuning cannot be stored; measure without --write ` +
        `and pass the setting to openIndex({ parameters })`,
    );
  }
  if (options.write && !options.waitSeconds) {
    // Another writer at work fails the run now, not after a minute of sweeping; the lock is taken
    // for real (and only for the rewrite) at the end.
    (await acquireWriterLock(options.root, { command: `tune --write ${options.version}` })).release();
  }
  const info = FaissIndex.buildInfo();

  const index = await loadVersionIndex(dir, manifest);
  let truth: GroundTruth | undefined;
  // FAISS's thread count is process-wide: a library caller gets its own back when tune ends.
  const callerThreads = FaissIndex.getNumThreads();
  try {
    if (options.threads !== undefined) FaissIndex.setNumThreads(options.threads);
    const threads = FaissIndex.getNumThreads();
    const ranges = sweepRanges(index, explicit);
    let held: Float32Array | undefined;
    let queryFile: string | undefined;
    if (options.queries !== undefined) {
      const q = await readQueryVectors(options.queries, {
        dim: manifest.vec_dim,
        ...(options.embeddingColumn ? { embeddingColumn: options.embeddingColumn } : {}),
      });
      if (manifest.metric === 'cosine') {
        normalizeL2(
          q.vectors,
          q.dim,
          BigInt64Array.from({ length: q.rows }, (_, i) => BigInt(i)),
          q.file,
        );
      }
      held = q.vectors;
      queryFile = q.file;
    }
    const load = (performance.now() - t0) / 1000;
    truth = await groundTruth(dir, manifest, {
      k: v.k,
      ...(held ? { queries: held } : { sample: v.sample, seed: v.seed }),
      ...(options.duckdb ? { duckdb: options.duckdb } : {}),
      onProgress: (done, total) => {
        // Called between the batches read: the place a cancellation stops the ground truth.
        options.signal?.throwIfAborted();
        options.onProgress?.({ phase: 'truth', done, total });
      },
    });
    options.signal?.throwIfAborted();

    const sweepStart = performance.now();
    const deadline = sweepStart + v.maxSeconds * 1000;
    const combos = combinations(ranges);
    const measured: (SweepPoint & { point: TunePoint })[] = [];
    const points: TunePoint[] = [];
    for (const positions of combos) {
      options.signal?.throwIfAborted();
      const values = valuesOf(ranges, positions);
      const params = specOf(values);
      if (canPrune(positions, measured)) {
        points.push({ params, values, status: 'pruned' });
        continue;
      }
      const estimate = estimateCost(values, positions, measured);
      if (measured.length > 0 && performance.now() + estimate * 1000 > deadline) {
        points.push({ params, values, status: 'cut' });
        continue;
      }
      const m = await measurePoint(index, params, truth, {
        runs: v.runs,
        threads,
        epsilon: v.epsilon,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      const point: TunePoint = {
        params,
        values,
        status: 'measured',
        recall: m.recall,
        tie_hits: m.tieHits,
        latency_ms: m.latencyMs,
        qps: m.qps,
        seconds: m.seconds,
        effective: m.effective,
      };
      points.push(point);
      measured.push({
        positions,
        values,
        recall: m.recall,
        qps: m.qps,
        latencyP50: m.latencyMs.p50,
        cost: m.seconds,
        point,
      });
      options.onProgress?.({ phase: 'sweep', done: points.length, total: combos.length });
      if (points.length === 1) await holdpoint('tune:sweeping', options.signal);
    }
    options.signal?.throwIfAborted();
    const sweep = (performance.now() - sweepStart) / 1000;

    const frontier = paretoFrontier(measured);
    measured.forEach((m, i) => (m.point.pareto = frontier.has(i)));
    const chosen = choosePoint(measured, v.targetRecall)?.point;
    if (chosen) chosen.chosen = true;
    const best = bestRecall(measured)?.point;
    const querySource = queryFile !== undefined ? `file:${queryFile}` : `sample:${truth.nq},seed=${v.seed}`;
    const tuning =
      chosen && family !== 'other'
        ? tuningFrom(chosen, ranges, {
            family,
            k: v.k,
            targetRecall: v.targetRecall,
            nq: truth.nq,
            querySource,
            threads,
            faiss: info,
          })
        : null;
    let written = false;
    if (options.write && tuning) {
      await writeTuning({
        root: options.root,
        version: options.version,
        dir,
        indexChecksum: manifest.index_checksum,
        tuning,
        ...(options.waitSeconds !== undefined ? { waitSeconds: options.waitSeconds } : {}),
      });
      written = true;
    }
    return {
      version: options.version,
      dir,
      factory: manifest.faiss_factory,
      family,
      metric: manifest.metric,
      dim: manifest.vec_dim,
      vectors: manifest.vectors_count,
      k: v.k,
      target_recall: v.targetRecall,
      epsilon: v.epsilon,
      runs: v.runs,
      max_seconds: v.maxSeconds,
      queries: {
        source: queryFile !== undefined ? 'file' : 'sample',
        ...(queryFile !== undefined ? { file: queryFile } : { seed: v.seed }),
        nq: truth.nq,
        self_excluded: truth.selfIds !== undefined,
      },
      threads,
      faiss: { version: info.faissVersion, simd: info.simd },
      ranges,
      points,
      chosen: chosen ?? null,
      best: best ?? null,
      met: chosen !== undefined,
      cut: points.filter((p) => p.status === 'cut').map((p) => p.params),
      pruned: points.filter((p) => p.status === 'pruned').map((p) => p.params),
      seconds: {
        load,
        truth_read: truth.seconds.read,
        truth_search: truth.seconds.search,
        sweep,
        total: (performance.now() - t0) / 1000,
      },
      tuning,
      written,
    };
  } finally {
    truth?.dispose();
    index.dispose();
    FaissIndex.setNumThreads(callerThreads);
  }
}

interface TuningFacts {
  family: TuningFamily;
  k: number;
  targetRecall: number;
  nq: number;
  querySource: string;
  threads: number;
  faiss: { faissVersion: string; simd: string };
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * The manifest's `tuning` for a measured point. The named fields take the values the index had
 * while measured (swept or not), so openIndex reproduces exactly the measured setting; `params`
 * holds every speed/recall knob, including those without a named field.
 */
export function tuningFrom(
  point: TunePoint,
  ranges: readonly ParameterRange[],
  facts: TuningFacts,
): ManifestTuning {
  const eff = point.effective ?? {};
  const knobs = new Set([...DEFAULT_KNOBS, ...ranges.map((r) => r.name)]);
  const params = parameterSpec(Object.entries(eff).filter(([name]) => knobs.has(name)));
  const named = (name: string) => (eff[name] !== undefined ? eff[name] : null);
  return {
    family: facts.family,
    k: facts.k,
    nprobe: named('nprobe'),
    hnsw_efSearch: named('efSearch'),
    refine_k_factor: named('k_factor_rf'),
    notes: `indexctl tune: fastest measured setting with recall@${facts.k} >= ${facts.targetRecall}`,
    recall_at_k: round(point.recall!, 6),
    latency_ms_p50: round(point.latency_ms!.p50, 4),
    measured_ts: Date.now() / 1000,
    latency_ms_p95: round(point.latency_ms!.p95, 4),
    latency_ms_p99: round(point.latency_ms!.p99, 4),
    qps: round(point.qps!, 1),
    nq: facts.nq,
    query_source: facts.querySource,
    threads: facts.threads,
    faiss_version: facts.faiss.faissVersion,
    faiss_simd: facts.faiss.simd,
    params,
    target_recall: facts.targetRecall,
    tool: `indexctl ${packageVersion()}`,
  };
}
