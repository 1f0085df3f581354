/**
 * `train`: the trained, empty index that shard builds and `build --trained` start from. The same
 * checks and the same training as a build (factory grammar, dimension, the FAISS probe in a child,
 * the seeded sample), then the index is written instead of filled.
 */
import { checkFactoryForDim, parseFactory } from '../build/factory-check.js';
import { tryFactory } from '../build/factory-probe.js';
import {
  checkEnoughToTrain,
  createWrappedIndex,
  innerFactory,
  minimumTrainVectors,
} from '../build/factory.js';
import { gatherSample, openInput, trainIndex } from '../build/build.js';
import { planBuild, type BuildMetric } from '../build/plan.js';
import { resolveDuckDBLimits, type DuckDBLimits } from '../catalog/duckdb-limits.js';
import { UsageError } from '../errors.js';
import { checkMergeable, writeTrained, type TrainedSidecar } from './trained.js';

export interface TrainOptions {
  chunks: string;
  factory: string;
  out: string;
  metric?: BuildMetric;
  trainSample?: number;
  seed?: number;
  idColumn?: string;
  embeddingColumn?: string;
  dim?: number;
  duckdb?: DuckDBLimits;
  onProgress?: (phase: 'sample' | 'train', done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface TrainReport {
  file: string;
  sidecar: TrainedSidecar;
  seconds: number;
}

export async function train(options: TrainOptions): Promise<TrainReport> {
  const started = performance.now();
  const metric = options.metric ?? 'l2';
  if (options.factory === 'auto') {
    throw new UsageError(
      'train needs an explicit --factory (auto may pick HNSW, whose shards cannot be merged)',
    );
  }
  const factory = innerFactory(options.factory);
  const shape = parseFactory(factory);
  checkMergeable(shape);
  resolveDuckDBLimits(options.duckdb);
  const chunks = await openInput(options, metric);
  try {
    checkFactoryForDim(shape, chunks.dim, chunks.file);
    const trial = await tryFactory(chunks.dim, factory, metric, {
      file: chunks.file,
      signal: options.signal,
    });
    const plan = planBuild({
      vectors: chunks.rows,
      dim: chunks.dim,
      factory,
      metric,
      rowGroupRows: Math.ceil(chunks.rows / Math.max(1, chunks.rowGroups)),
      needsTraining: !trial.isTrained,
      minTrainVectors: minimumTrainVectors(shape, chunks.dim),
      ...(options.trainSample !== undefined ? { trainSample: options.trainSample } : {}),
    });
    if (!trial.isTrained) checkEnoughToTrain(shape, chunks.dim, plan.trainSample, chunks.file);
    const seed = options.seed ?? 0;
    const index = createWrappedIndex(chunks.dim, factory, metric);
    try {
      let trainRows = 0;
      if (!index.isTrained) {
        const progress = options.onProgress ?? (() => {});
        const sample = await gatherSample(
          chunks,
          plan,
          seed,
          (e) => progress('sample', e.done, e.total),
          options.signal,
        );
        progress('train', 0, 1);
        await trainIndex(index, sample, plan, chunks.file);
        trainRows = plan.trainSample;
      }
      const sidecar = await writeTrained(options.out, index, {
        factory,
        metric,
        dim: chunks.dim,
        train_rows: trainRows,
        train_seed: seed,
        source_chunks: chunks.file,
      });
      return { file: options.out, sidecar, seconds: (performance.now() - started) / 1000 };
    } finally {
      index.dispose();
    }
  } finally {
    chunks.close();
  }
}
