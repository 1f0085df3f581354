/**
 * `build`: a chunks Parquet in, an immutable version directory out. Everything is written into a
 * private staging directory without the writer lock, so an hour-long build never blocks a publish,
 * rollback, pin or gc; the lock is taken only to seal (the rename into versions/<V>, after the data
 * is synced). Any failure removes the staging directory, so versions/ and CURRENT are never touched
 * by a bad input. Two builds of the same name: the second to seal finds the name taken (exit 3).
 */
import type { Stats } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import path from 'node:path';

import {
  abortStaging,
  beginStaging,
  COPY_SPILL_DIR,
  SPILL_DIR,
  type Input,
  type Staging,
} from './staging.js';
import { limitsWithinBudget, resolveDuckDBLimits, type DuckDBLimits } from '../catalog/duckdb-limits.js';
import { guardWrite } from '../util/env-io.js';
import { BadInputError, FaissError, UsageError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { readIndexChecked } from '../version/read-index.js';
import { failpoint, holdpoint } from '../util/failpoint.js';
import {
  checkVersionName,
  commitStagingDir,
  defaultVersionName,
  VERSION_FILES,
  syncStagingDir,
} from '../layout.js';
import { acquireWriterLock } from '../lock.js';
import { writeManifestAtomic, type Manifest } from '../manifest/schema.js';
import { openChunks, type ChunksReader } from '../parquet/chunks-reader.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { sampledEmbedder, type EmbedderRecord } from '../sample/embedder-record.js';
import { resolveDataset, type Dataset } from '../parquet/dataset.js';
import { assembleManifest } from '../manifest/assemble.js';
import { checkFactoryForDim, faissReason, parseFactory, type FactoryShape } from './factory-check.js';
import { tryFactory } from './factory-probe.js';
import { checkEnoughToTrain, createWrappedIndex, innerFactory, minimumTrainVectors } from './factory.js';
import { checkBudget, planBuild, type BuildMetric, type BuildPlan } from './plan.js';
import { SampleGatherer, sampleRows } from './train-sample.js';
import { checkTrainedFits, copyTrained, type Trained } from '../shard/trained.js';
import { HashCollector } from './embedding-hash.js';
import { StageClock } from './stages.js';
import {
  DEFAULT_DRIFT_THRESHOLD,
  applyDelta,
  baseHashes,
  cannotRemove,
  checkFitsBase,
  checkRemovable,
  diffAgainstBase,
  measureDrift,
  openBase,
  type BaseVersion,
  type Delta,
  type Incremental,
  type IncrementalRecord,
} from './incremental.js';

export interface BuildOptions {
  root: string;
  chunks: string;
  factory: string;
  metric?: BuildMetric;
  version?: string;
  trainSample?: number;
  memoryBudgetBytes?: number;
  materialize?: boolean;
  dryRun?: boolean;
  idColumn?: string;
  embeddingColumn?: string;
  /** Hard-link the chunks file into the version instead of copying it (see placeChunks). */
  linkChunks?: boolean;
  /** Names of the hydration columns when they differ from `uri`, `lang`, `start_line`, `end_line`. */
  metadataColumns?: Partial<Record<MetadataColumn, string>>;
  dim?: number;
  /**
   * Seconds the seal waits for the writer lock (default DEFAULT_SEAL_WAIT_SECONDS; 0: exit 75 at
   * once when another writer holds it). The build itself takes no lock.
   */
  waitSeconds?: number;
  /** Seed of the training sample. */
  seed?: number;
  /** Start from this trained index (indexctl train) instead of training: src/core/shard/trained.ts. */
  trained?: Trained;
  /**
   * Build incrementally from this version (incremental.ts): its index with the removed and changed
   * chunks taken out and the added and changed put in. Factory and metric are the base's.
   */
  base?: string;
  /** Drift ratio above which an incremental build warns (default DEFAULT_DRIFT_THRESHOLD). */
  driftThreshold?: number;
  /** With `base`: when drift exceeds the threshold, train afresh (an ordinary full build of NEW). */
  retrainOnDrift?: boolean;
  /**
   * DuckDB memory and thread limits for reading the chunks and building the catalog. Under
   * `memoryBudgetBytes` the memory limit defaults to what the FAISS plan leaves (duckdb-limits.ts).
   */
  duckdb?: DuckDBLimits;
  onProgress?: (event: BuildProgress) => void;
  /** Cancellation (SIGINT...): checked between batches; staging is removed and the lock released. */
  signal?: AbortSignal;
}

export interface BuildProgress {
  phase: 'diff' | 'sample' | 'train' | 'add' | 'write' | 'checksum' | 'commit';
  done: number;
  total: number;
}

export interface BuildReport {
  version: string;
  dryRun: boolean;
  plan: BuildPlan;
  /** The version directory (absent for a dry run). */
  dir?: string;
  manifest?: Manifest;
  seconds: Record<string, number>;
  /** With --base: the base, the counts and the drift check (also in the manifest). */
  incremental?: IncrementalRecord & { base_version: string };
  /** Things the operator should know that did not stop the build (drift above the threshold). */
  warnings: string[];
}

/**
 * The seal waits this long for the writer lock by default: a publish or gc holds it for seconds to
 * minutes, and failing there would throw away the whole build.
 */
export const DEFAULT_SEAL_WAIT_SECONDS = 600;

export async function build(options: BuildOptions): Promise<BuildReport> {
  const started = performance.now();
  const clock = new StageClock();
  const report = await buildTimed(options, clock);
  clock.since('total', started);
  return { ...report, seconds: clock.seconds as Record<string, number> };
}

async function buildTimed(options: BuildOptions, clock: StageClock): Promise<BuildReport> {
  const version = checkVersionName(options.version ?? defaultVersionName());
  if (options.base !== undefined && options.trained) {
    throw new UsageError(
      "--base and --trained exclude each other: an incremental build starts from the base version's own index",
    );
  }
  if (options.base === undefined && (options.retrainOnDrift || options.driftThreshold !== undefined)) {
    throw new UsageError('--retrain-on-drift and --drift-threshold need --base');
  }
  // Checked before the input is opened: a missing base is exit 6, a damaged one 4, nothing staged.
  const base =
    options.base === undefined
      ? undefined
      : await openBase(options.root, checkVersionName(options.base), {
          ...(options.duckdb ? { duckdb: options.duckdb } : {}),
          ...(options.signal ? { signal: options.signal } : {}),
        });
  if (base) checkBaseFlags(base, options);
  const metric = base?.metric ?? options.metric ?? 'l2';
  const factory = base ? base.factory : options.factory === 'auto' ? 'auto' : innerFactory(options.factory);
  // A string that is wrong whatever the data is refused before the file is even opened (exit 2).
  const given = factory === 'auto' ? undefined : parseFactory(factory);
  // Checked before DuckDB opens: a bad limit is a usage error, not a failure to read the file.
  resolveDuckDBLimits(options.duckdb);
  const opening = performance.now();
  const dataset = await resolveDataset(options.chunks, options.duckdb);
  const inputStats = await statInputs(dataset.files);
  // The footer is read under the explicit (or default) limit; once the FAISS plan is known, the
  // budget decides what DuckDB gets for the scan and the catalog.
  const chunks = await openInput({ ...options, chunks: dataset }, metric);
  clock.since('open', opening);
  const input: Input = { dataset, chunks, stats: inputStats };
  let started: Promise<Staging> | undefined;
  let incremental: Incremental | undefined;
  try {
    options.signal?.throwIfAborted();
    checkMetadataColumns(chunks, options.metadataColumns ?? {});
    if (options.trained) checkTrainedFits(options.trained, chunks.file, chunks.dim, metric);
    if (base) checkFitsBase(base, chunks);
    const planInput = {
      vectors: chunks.rows,
      dim: chunks.dim,
      factory,
      metric,
      rowGroupRows: Math.ceil(chunks.rows / Math.max(1, chunks.rowGroups)),
      ...(options.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: options.memoryBudgetBytes } : {}),
      ...(options.trainSample !== undefined ? { trainSample: options.trainSample } : {}),
    };
    const draft = planBuild(planInput);
    // Checks that need no lock come first, so nothing is locked or staged for a factory that fails:
    // the dimension against the string (exit 5), then FAISS itself, in a bounded child process.
    const shape = given ?? parseFactory(draft.factory);
    checkFactoryForDim(shape, chunks.dim, chunks.file);
    // A full build without DuckDB memory bounds starts its staging (the chunks copy, chunk_meta)
    // while the factory is tried: most of a small build's time is such fixed steps. A failure below
    // removes it again, so a factory that fails still leaves nothing behind.
    if (
      !options.dryRun &&
      !base &&
      options.duckdb?.memoryLimit === undefined &&
      options.memoryBudgetBytes === undefined
    ) {
      started = beginStaging(options, version, input, clock, true);
      started.catch(() => undefined);
    }
    // The first pass (the training sample's or the add's) starts decoding during the trial too.
    if (!options.dryRun && !base) chunks.prefetch();
    const trial = await clock.time('factory_trial', () =>
      tryFactory(chunks.dim, draft.factory, metric, { file: chunks.file, signal: options.signal }),
    );
    const plan: BuildPlan = {
      ...planBuild({
        ...planInput,
        factory: draft.factory,
        needsTraining: !trial.isTrained && !options.trained,
        minTrainVectors: minimumTrainVectors(shape, chunks.dim),
      }),
      reason: draft.reason,
    };
    checkBudget(plan);
    if (!trial.isTrained && !options.trained)
      checkEnoughToTrain(shape, chunks.dim, plan.trainSample, chunks.file);
    const duckdb = limitsWithinBudget(options.duckdb, options.memoryBudgetBytes, plan.estimatedPeakBytes);
    if (options.dryRun) return { version, dryRun: true, plan, seconds: {}, warnings: [] };
    if (base) incremental = await prepareIncremental({ ...options, duckdb }, base, shape, chunks, clock);
    const owned = started;
    started = undefined; // buildStaged removes it on a failure from here on
    return await buildStaged({ ...options, duckdb }, version, input, plan, incremental, clock, owned);
  } catch (err) {
    if (started) await started.then(abortStaging, () => undefined);
    throw err;
  } finally {
    await chunks.discardPrefetch();
    chunks.close();
    incremental?.index?.dispose();
  }
}

/** --factory and --metric, when given with --base, must be the base's (exit 2). */
function checkBaseFlags(base: BaseVersion, options: BuildOptions): void {
  if (options.factory !== 'auto' && innerFactory(options.factory) !== base.factory) {
    throw new UsageError(
      `--factory ${options.factory}: base version ${base.name} is ${base.factory} (leave --factory out with --base)`,
    );
  }
  if (options.metric !== undefined && options.metric !== base.metric) {
    throw new UsageError(`--metric ${options.metric}: base version ${base.name} uses metric ${base.metric}`);
  }
}

/**
 * The diff against the base, the refusal of removals an index cannot do, and the drift check, all
 * before anything is staged. V1's index is read here (it is needed for the drift measure).
 */
async function prepareIncremental(
  options: BuildOptions,
  base: BaseVersion,
  shape: FactoryShape,
  chunks: ChunksReader,
  clock: StageClock,
): Promise<Incremental> {
  const progress = options.onProgress ?? (() => {});
  const metric = base.metric;
  let t = performance.now();
  const lap = (name: 'base_hashes' | 'diff' | 'read_base_index' | 'drift') => {
    clock.since(name, t);
    t = performance.now();
  };
  const known = await baseHashes(
    base,
    (file, idColumn, embeddingColumn) =>
      openInput(
        {
          chunks: file,
          ...(options.duckdb ? { duckdb: options.duckdb } : {}),
          ...(idColumn ? { idColumn } : {}),
          ...(embeddingColumn ? { embeddingColumn } : {}),
        },
        metric,
      ),
    options.duckdb,
    options.signal,
  );
  lap('base_hashes');
  // V1's index is read (on a worker thread) while NEW is diffed; not for a base that may refuse.
  const reading = cannotRemove(shape) ? undefined : readIndexChecked(path.join(base.dir, 'faiss.index'));
  reading?.catch(() => undefined);
  let delta: Delta;
  try {
    delta = await diffAgainstBase(chunks, known, options.signal, (done) =>
      progress({ phase: 'diff', done, total: chunks.rows }),
    );
    lap('diff');
    checkRemovable(base, shape, delta.counts);
  } catch (err) {
    (await reading?.catch(() => undefined))?.dispose();
    throw err;
  }
  const index = await (reading ?? readIndexChecked(path.join(base.dir, 'faiss.index')));
  lap('read_base_index');
  try {
    const drift = measureDrift(index, delta, options.driftThreshold ?? DEFAULT_DRIFT_THRESHOLD, chunks.dim);
    lap('drift');
    const retrained = (drift?.exceeded ?? false) && options.retrainOnDrift === true;
    if (retrained) index.dispose();
    return {
      base,
      delta,
      record: { ...delta.counts, retrained, drift },
      index: retrained ? undefined : index,
    };
  } catch (err) {
    index.dispose();
    throw err;
  }
}

async function buildStaged(
  options: BuildOptions,
  version: string,
  input: Input,
  plan: BuildPlan,
  incremental: Incremental | undefined,
  clock: StageClock,
  started: Promise<Staging> | undefined,
): Promise<BuildReport> {
  // chunk_meta is read from the input while FAISS adds (docs/build.md#stages), unless DuckDB's memory
  // is bounded (two DuckDB instances at once could need twice the limit) or the index is V1's.
  const fill = !incremental?.index && options.duckdb?.memoryLimit === undefined;
  const staging = await (started ?? beginStaging(options, version, input, clock, fill));
  try {
    // FAISS's write_index and DuckDB report a full or read-only disk as text: named here, exit 74.
    const report = await guardWrite(`cannot build ${version}`, staging.dir, () =>
      fillStaging(options, version, input, plan, staging, incremental, clock),
    );
    report.dir = await seal(options, version, staging.dir, clock);
    return report;
  } catch (err) {
    await abortStaging(staging);
    throw err;
  }
}

/** The data is flushed first, lock-free; the lock covers only the exists-check and the rename. */
export async function seal(
  options: Pick<BuildOptions, 'root' | 'waitSeconds' | 'signal'>,
  version: string,
  staging: string,
  clock?: StageClock,
): Promise<string> {
  const syncing = performance.now();
  await syncStagingDir(staging);
  clock?.since('fsync', syncing);
  const sealing = performance.now();
  const lock = await acquireWriterLock(options.root, {
    command: `build ${version} (seal)`,
    waitSeconds: options.waitSeconds ?? DEFAULT_SEAL_WAIT_SECONDS,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    // The last moment a cancellation can stop the build: after the rename the version exists.
    options.signal?.throwIfAborted();
    return await commitStagingDir(staging, options.root, version);
  } finally {
    lock.release();
    clock?.since('seal', sealing);
  }
}

async function fillStaging(
  options: BuildOptions,
  version: string,
  input: Input,
  plan: BuildPlan,
  { dir: staging, files, placing, catalog }: Staging,
  incremental: Incremental | undefined,
  clock: StageClock,
): Promise<BuildReport> {
  const { chunks, dataset } = input;
  const progress = options.onProgress ?? (() => {});
  const timed = clock.time.bind(clock);
  // An incremental build changes V1's index in place (it is disposed by build()); otherwise a new one.
  const reused = incremental?.index;
  const columns = { ...options.metadataColumns, id: chunks.idColumn, embedding: chunks.embeddingColumn };
  let index: FaissIndex | undefined;
  try {
    index =
      reused ??
      (options.trained
        ? copyTrained(options.trained)
        : createWrappedIndex(plan.dim, plan.factory, plan.metric));
    const hashes = reused ? undefined : new HashCollector(chunks.rows, chunks.dim);
    if (reused) {
      await timed('apply_delta', () => applyDelta(reused, incremental!.delta, incremental!.base));
      progress({ phase: 'add', done: chunks.rows, total: chunks.rows });
    } else {
      // FAISS decides whether the index needs training (SQ8, PCA64,Flat and LSHrt do; HNSW32 does not).
      if (!index.isTrained) {
        const sample = await timed('sample', () =>
          gatherSample(chunks, plan, options.seed ?? 0, progress, options.signal),
        );
        await timed('train', () => trainIndex(index!, sample, plan, chunks.file));
      }
      await timed('add', () => addAll(index!, chunks, progress, options.signal, hashes!, clock));
    }
    // Between stages, a cancellation stops the build at once (each stage is bounded on its own).
    const stop = () => options.signal?.throwIfAborted();
    stop();
    progress({ phase: 'write', done: 0, total: 3 });
    // The index is written on FAISS's worker thread (hashed as it is written and flushed there,
    // hashed_io.cc, when the addon can) while the idmap and then the catalog are made here.
    const ids = index.idMap();
    const indexFile = path.join(staging, VERSION_FILES.index);
    const writingIndex = timed('write_index', async () => {
      const written = await index!.writeHashed(indexFile);
      if (!written) await index!.writeAsync(indexFile);
      return written;
    });
    writingIndex.catch(() => undefined);
    try {
      await timed('write_idmap', () =>
        writeIdMap(path.join(staging, VERSION_FILES.idmap), ids, { staged: true }),
      );
      failpoint('build:idmap-written');
      files.finished(VERSION_FILES.idmap);
      stop();
      progress({ phase: 'write', done: 1, total: 3 });
      // A copy that failed because a file was rewritten under it is reported as the rewrite.
      await timed('copy_chunks_wait', () =>
        placing.catch((err) => checkUnchanged(dataset.files, input.stats).then(() => Promise.reject(err))),
      );
      await checkUnchanged(dataset.files, input.stats);
      stop();
      await timed('catalog', () =>
        catalog.finish({
          materialize: options.materialize ?? false,
          columns,
          embeddingHashes: hashes ? hashes.result : incremental!.delta.hashes,
        }),
      );
      failpoint('build:catalog-written');
      files.finished(VERSION_FILES.catalog);
    } finally {
      await writingIndex.catch(() => undefined);
    }
    const indexWritten = await writingIndex;
    failpoint('build:index-written');
    files.finished(VERSION_FILES.index, indexWritten);
    progress({ phase: 'write', done: 2, total: 3 });
  } finally {
    if (!reused) index?.dispose();
  }
  await rm(path.join(staging, SPILL_DIR), { recursive: true, force: true });
  await rm(path.join(staging, COPY_SPILL_DIR), { recursive: true, force: true });

  // Vectors made by `sample`'s built-in embedder: recorded, so `search --text` can embed words alike.
  const embedder = await datasetEmbedder(dataset.files, chunks.embeddingColumn, plan.dim);
  const entries = await timed('checksum_wait', () => files.entries());
  const manifest = await timed('checksum', () =>
    assembleManifest(staging, {
      files: entries,
      version,
      // The upstream convention names the wrapper; indexctl builds it in code, never through the factory.
      factory: `IDMap2,${plan.factory}`,
      metric: plan.metric,
      dim: plan.dim,
      vectors: plan.vectors,
      attrs: {
        ...sourceAttrs(dataset),
        ...columnAttrs(chunks.idColumn, chunks.embeddingColumn, options.metadataColumns),
        ...(embedder ? { embedder } : {}),
        ...(reused
          ? pick(incremental!.base.manifest.attrs ?? {}, ['train_sample', 'train_seed', 'trained_checksum'])
          : options.trained
            ? {
                train_sample: options.trained.sidecar.train_rows,
                train_seed: options.trained.sidecar.train_seed,
                trained_checksum: options.trained.sidecar.checksum,
              }
            : { train_sample: plan.trainSample, train_seed: options.seed ?? 0 }),
        materialized: options.materialize ?? false,
      },
      ...(incremental ? { baseVersion: incremental.base.name, incremental: incremental.record } : {}),
      onChecksumProgress: (_name, done, total) => progress({ phase: 'checksum', done, total }),
      ...(options.signal ? { signal: options.signal } : {}),
    }),
  );
  await timed('manifest', () => writeManifestAtomic(staging, manifest));
  failpoint('build:manifest-written');
  progress({ phase: 'commit', done: 1, total: 1 });
  return {
    version,
    dryRun: false,
    plan,
    manifest,
    seconds: {},
    ...(incremental ? { incremental: { base_version: incremental.base.name, ...incremental.record } } : {}),
    warnings: incremental ? driftWarnings(incremental) : [],
  };
}

function driftWarnings({ base, record }: Incremental): string[] {
  const d = record.drift;
  if (!d?.exceeded) return [];
  return [
    `drift: the added and changed vectors lie ${d.ratio.toFixed(2)}x as far from their coarse centroids as ` +
      `${base.name}'s (threshold ${d.threshold})` +
      (record.retrained
        ? '; trained afresh (--retrain-on-drift)'
        : '; recall may suffer: consider --retrain-on-drift'),
  ];
}

function pick(from: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => k in from).map((k) => [k, from[k]]));
}

/**
 * Streams every batch into the index, overlapping FAISS's add of one batch (on a worker thread, from
 * a copy) with DuckDB's decoding of the next: the reader reuses its buffer, so the batch in FAISS's
 * hands is copied into a spare one first (a memcpy, far cheaper than either side).
 */
/**
 * The chunks file or dataset (`--chunks`: a file, a directory or a glob, dataset.ts) as build, train
 * and a shard build read it: the column flags, the expected dimension, the DuckDB limits, and vectors
 * normalized for cosine.
 */
export async function openInput(
  options: Pick<BuildOptions, 'duckdb' | 'idColumn' | 'embeddingColumn' | 'dim'> & {
    chunks: string | Dataset;
  },
  metric: BuildMetric,
): Promise<ChunksReader> {
  const dataset =
    typeof options.chunks === 'string'
      ? await resolveDataset(options.chunks, options.duckdb)
      : options.chunks;
  return openChunks(dataset.files, {
    label: dataset.source,
    ...(options.duckdb ? { duckdb: options.duckdb } : {}),
    ...(options.idColumn ? { idColumn: options.idColumn } : {}),
    ...(options.embeddingColumn ? { embeddingColumn: options.embeddingColumn } : {}),
    ...(options.dim !== undefined ? { dim: options.dim } : {}),
    normalize: metric === 'cosine',
  });
}

async function addAll(
  index: FaissIndex,
  chunks: ChunksReader,
  progress: (e: BuildProgress) => void,
  signal: AbortSignal | undefined,
  hashes: HashCollector,
  clock: StageClock,
): Promise<void> {
  index.reserve(chunks.rows);
  let spare: { vectors: Float32Array; ids: BigInt64Array } | undefined;
  let pending: Promise<void> | undefined;
  const timing = { decode: 0, validate: 0 };
  try {
    for await (const batch of chunks.batches({ timing })) {
      await pending;
      // Between batches: the add in flight has finished, none is started after a cancellation.
      signal?.throwIfAborted();
      if (!spare || spare.ids.length < batch.rows) {
        spare = { vectors: new Float32Array(batch.vectors.length), ids: new BigInt64Array(batch.rows) };
      }
      const vectors = spare.vectors.subarray(0, batch.vectors.length);
      const ids = spare.ids.subarray(0, batch.rows);
      vectors.set(batch.vectors);
      ids.set(batch.ids);
      const done = batch.rowOffset + batch.rows;
      const adding = performance.now();
      pending = index.addWithIdsAsync(vectors, ids).then(() => {
        clock.since('faiss_add', adding);
        progress({ phase: 'add', done, total: chunks.rows });
      });
      // The add may fail while the reader decodes the next batch; it is awaited (and its error
      // thrown) at the top of the next turn, but until then it needs a handler, or Node ends the
      // process on an unhandled rejection with staging/ and the lock left behind.
      pending.catch(() => undefined);
      // Hashed while FAISS adds the same rows (both only read them): chunk_embedding_hash (embedding-hash.ts).
      await clock.time('hash', () => hashes.offer(ids, vectors, batch.rowOffset));
      if (batch.rowOffset === 0) {
        await pending;
        await holdpoint('build:adding', signal);
      }
    }
    await pending;
  } finally {
    clock.add('decode', timing.decode);
    clock.add('validate', timing.validate);
    // A reader failure (bad rows are reported when the pass ends) must not leave an add running.
    await pending?.catch(() => {});
  }
}

export async function gatherSample(
  chunks: ChunksReader,
  plan: BuildPlan,
  seed: number,
  progress: (e: BuildProgress) => void,
  signal: AbortSignal | undefined,
): Promise<Float32Array> {
  const gatherer = new SampleGatherer(sampleRows(chunks.rows, plan.trainSample, seed), chunks.dim);
  for await (const batch of chunks.batches()) {
    signal?.throwIfAborted();
    gatherer.offer(batch.vectors, batch.rowOffset);
    progress({ phase: 'sample', done: batch.rowOffset + batch.rows, total: chunks.rows });
  }
  return gatherer.vectors;
}

export async function trainIndex(
  index: FaissIndex,
  sample: Float32Array,
  plan: BuildPlan,
  file: string,
): Promise<void> {
  try {
    await index.trainAsync(sample);
  } catch (err) {
    if (err instanceof FaissError) {
      throw new BadInputError(
        `${file}: training ${plan.factory} on ${plan.trainSample} vectors failed: ${faissReason(err.message)}`,
        {
          cause: err,
        },
      );
    }
    throw err;
  }
}

const METADATA_COLUMNS = ['uri', 'lang', 'start_line', 'end_line'] as const;
export type MetadataColumn = (typeof METADATA_COLUMNS)[number];

/**
 * The columns hydration reads must be in the file: checked up front, not after an hour of adding
 * vectors when the catalog is made.
 */
export function checkMetadataColumns(
  chunks: ChunksReader,
  names: Partial<Record<MetadataColumn, string>>,
): void {
  const have = chunks.columns.map((c) => c.name);
  const missing = METADATA_COLUMNS.filter((c) => !have.includes(names[c] ?? c));
  if (missing.length === 0) return;
  const flags = missing.map((c) => `--${c.replace('_', '-')}-column`).join(', ');
  throw new BadInputError(
    `${chunks.file}: missing column${missing.length > 1 ? 's' : ''} ` +
      `${missing.map((c) => `"${names[c] ?? c}"`).join(', ')}, which search results are hydrated from ` +
      `(name the file's own with ${flags}); the file has: ${chunks.columns.map((c) => `${c.name} (${c.type})`).join(', ')}`,
  );
}

/** Each input file's identity and size now, to tell later whether one was rewritten during the build. */
export async function statInputs(files: readonly string[]): Promise<(Stats | undefined)[]> {
  return Promise.all(files.map((f) => statInput(f)));
}

export async function statInput(file: string): Promise<Stats | undefined> {
  try {
    return await stat(file);
  } catch {
    return undefined; // openChunks reports a missing or unreadable file precisely
  }
}

/**
 * The manifest's record of the input: `source_chunks` is the file, as always; a dataset of several
 * files also lists them, in order, in `source_files` (`source_chunks` is then the directory or glob).
 */
export function sourceAttrs(dataset: Pick<Dataset, 'source' | 'files'>): Record<string, unknown> {
  return dataset.files.length === 1
    ? { source_chunks: dataset.files[0]! }
    : { source_chunks: dataset.source, source_files: [...dataset.files] };
}

/**
 * The columns a version (or a shard) was read with, as the manifest's attrs and shard.json record
 * them: `metadata_columns` only when a hydration column was renamed, so the usual input adds nothing.
 */
export function columnAttrs(
  idColumn: string,
  embeddingColumn: string,
  metadataColumns: Partial<Record<MetadataColumn, string>> | undefined,
): {
  id_column: string;
  embedding_column: string;
  metadata_columns?: Partial<Record<MetadataColumn, string>>;
} {
  return {
    id_column: idColumn,
    embedding_column: embeddingColumn,
    ...(metadataColumns && Object.keys(metadataColumns).length > 0
      ? { metadata_columns: metadataColumns }
      : {}),
  };
}

/** `sample`'s embedder when every file of the input records the same one. */
async function datasetEmbedder(
  files: readonly string[],
  embeddingColumn: string,
  dim: number,
): Promise<EmbedderRecord | undefined> {
  let found: EmbedderRecord | undefined;
  for (const file of files) {
    const record = await sampledEmbedder(file, embeddingColumn, dim);
    if (!record || (found && JSON.stringify(found) !== JSON.stringify(record))) return undefined;
    found = record;
  }
  return found;
}

/**
 * An input file that changed since it was opened (size, mtime or inode) means the index was built
 * from other rows than the version would hold: refused, naming the file.
 */
export async function checkUnchanged(
  files: readonly string[],
  before: readonly (Stats | undefined)[],
): Promise<void> {
  for (const [k, file] of files.entries()) await checkUnchangedFile(file, before[k]);
}

async function checkUnchangedFile(file: string, before: Stats | undefined): Promise<void> {
  const after = await stat(file);
  if (
    before &&
    (after.ino !== before.ino ||
      after.dev !== before.dev ||
      after.size !== before.size ||
      after.mtimeMs !== before.mtimeMs)
  ) {
    throw new BadInputError(
      `${file}: the chunks file changed while the index was being built (size ${before.size} -> ${after.size}, ` +
        `mtime ${before.mtime.toISOString()} -> ${after.mtime.toISOString()}); nothing was written, build again`,
    );
  }
}
