/**
 * Exact ground truth for a version, in the external-id space: an `IndexIDMap2<IndexFlat>` with the
 * version's metric, filled from its chunks.parquet (normalized for cosine, as at build time). The
 * chunks stream through once: each batch is added to the Flat index, and the sampled query rows are
 * picked out on the way, so the vectors are held once (by FAISS), not twice. The Flat index is kept
 * for the tie test, which needs the stored vector of any returned id (`reconstruct`).
 */
import path from 'node:path';

import { sampleRows } from '../build/train-sample.js';
import { InvariantViolationError, UsageError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { VERSION_FILES } from '../layout.js';
import type { Manifest } from '../manifest/schema.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { openChunks } from '../parquet/chunks-reader.js';
import { dropSelf, exactDistance, type DistanceMetric } from './recall.js';

export interface TruthOptions {
  k: number;
  /** DuckDB memory and thread limits for reading the stored vectors. */
  duckdb?: DuckDBLimits;
  /** Held-out queries (nq x d, already normalized for cosine); otherwise a sample of stored vectors. */
  queries?: Float32Array;
  sample?: number;
  seed?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface GroundTruth {
  metric: DistanceMetric;
  k: number;
  nq: number;
  dim: number;
  queries: Float32Array;
  /** The sampled queries' own ids, excluded from truth and answers; undefined for held-out queries. */
  selfIds: BigInt64Array | undefined;
  /** nq x k true neighbours. */
  ids: BigInt64Array;
  /** Exact (float64) distance of each query's k-th true neighbour. */
  kth: Float64Array;
  /** Exact distance between query q and the stored vector of `id`. */
  distanceTo(q: number, id: bigint): number;
  seconds: { read: number; search: number };
  dispose(): void;
}

export async function groundTruth(
  dir: string,
  manifest: Manifest,
  options: TruthOptions,
): Promise<GroundTruth> {
  const metric: DistanceMetric = manifest.metric === 'l2' ? 'l2' : 'ip';
  const attrs = manifest.attrs ?? {};
  const file = path.join(dir, VERSION_FILES.chunks);
  const reader = await openChunks(file, {
    idColumn: typeof attrs.id_column === 'string' ? attrs.id_column : 'id',
    embeddingColumn: typeof attrs.embedding_column === 'string' ? attrs.embedding_column : 'embedding',
    normalize: manifest.metric === 'cosine',
    ...(options.duckdb ? { duckdb: options.duckdb } : {}),
  });
  const flat = FaissIndex.fromFactory(reader.dim, 'Flat', metric).wrapIdMap2();
  try {
    if (reader.rows !== manifest.vectors_count || reader.dim !== manifest.vec_dim) {
      throw new InvariantViolationError(
        `${file}: ${reader.rows} x ${reader.dim} vectors, the manifest records ${manifest.vectors_count} x ${manifest.vec_dim}`,
      );
    }
    const held = options.queries;
    const d = reader.dim;
    const rows = held
      ? new Uint32Array(0)
      : sampleRows(reader.rows, options.sample ?? 1000, options.seed ?? 0);
    const sampled = new Float32Array(rows.length * d);
    const selfIds = new BigInt64Array(rows.length);
    let next = 0;
    const t0 = performance.now();
    for await (const batch of reader.batches()) {
      await flat.addWithIdsAsync(batch.vectors, batch.ids);
      while (next < rows.length && rows[next]! < batch.rowOffset + batch.rows) {
        const local = rows[next]! - batch.rowOffset;
        sampled.set(batch.vectors.subarray(local * d, (local + 1) * d), next * d);
        selfIds[next] = batch.ids[local]!;
        next++;
      }
      options.onProgress?.(batch.rowOffset + batch.rows, reader.rows);
    }
    const read = (performance.now() - t0) / 1000;
    const queries = held ?? sampled;
    const self = held ? undefined : selfIds;
    const k = options.k;
    const kIn = self ? k + 1 : k;
    if (kIn > flat.ntotal) {
      throw new UsageError(
        `k=${k} needs at least ${kIn} vectors${self ? ' (k + the query itself)' : ''}; the version has ${flat.ntotal}`,
      );
    }
    const t1 = performance.now();
    const result = await flat.searchAsync(queries, kIn);
    const search = (performance.now() - t1) / 1000;
    const ids = dropSelf(result.labels, kIn, k, self);
    const nq = queries.length / d;
    const vectorOf = (id: bigint): Float32Array => {
      try {
        return flat.reconstruct(id);
      } catch (err) {
        throw new InvariantViolationError(`id ${id} returned by the index is not in ${file}`, { cause: err });
      }
    };
    const distanceTo = (q: number, id: bigint) => exactDistance(metric, queries, q, vectorOf(id));
    const kth = new Float64Array(nq);
    for (let q = 0; q < nq; q++) {
      let last = -1n;
      for (let j = q * k; j < (q + 1) * k; j++) if (ids[j]! >= 0n) last = ids[j]!;
      kth[q] = last >= 0n ? distanceTo(q, last) : NaN;
    }
    return {
      metric,
      k,
      nq,
      dim: d,
      queries,
      selfIds: self,
      ids,
      kth,
      distanceTo,
      seconds: { read, search },
      dispose: () => flat.dispose(),
    };
  } catch (err) {
    flat.dispose();
    throw err;
  } finally {
    reader.close();
  }
}
