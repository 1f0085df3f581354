/**
 * `build --chunks NEW --base V1`: V1's index, with the chunks removed or changed since taken out and
 * the added or changed ones put in, instead of training and adding everything again. Chunks are
 * matched by id; an embedding counts as changed when its hash (embedding-hash.ts) differs from the
 * one in V1's catalog. The result equals `build --chunks NEW --trained <V1's trained index>` in ids
 * and search results (test/incremental.test.ts); only the order of rows inside an IVF list differs,
 * so results tied on distance may come in another order.
 *
 * Everything that can refuse (a damaged or missing base, another dimension, a removal from an index
 * FAISS cannot remove from) is checked here, before the build stages anything.
 */
import path from 'node:path';

import { readEmbeddingHashes } from '../catalog/embedding-hash.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { BadInputError, IndexCorruptionError, UsageError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { requireVersionDir } from '../layout.js';
import { gateError } from '../lifecycle/verify-gate.js';
import { readManifest, type Manifest } from '../manifest/schema.js';
import type { ChunksReader } from '../parquet/chunks-reader.js';
import { HashCollector, findId, sortedById, type EmbeddingHashes } from './embedding-hash.js';
import { innerFactory } from './factory.js';
import type { FactoryShape } from './factory-check.js';
import type { BuildMetric } from './plan.js';

/**
 * Mean distance of the new vectors to their coarse centroid over the base's, above which the build
 * warns (docs/PERFORMANCE.md "Drift", bench/drift.ts): held-out rows of the same distribution
 * measured 1.00-1.01, mild noise or rescaling up to 1.08 on low-rank data, vectors shifted by half
 * their RMS 1.18-1.42.
 */
export const DEFAULT_DRIFT_THRESHOLD = 1.15;

/** Rows of each side the drift check measures: enough for a mean within ~1%, cheap to search. */
const DRIFT_SAMPLE = 10_000;

export interface BaseVersion {
  name: string;
  dir: string;
  manifest: Manifest;
  /** The inner factory string (without the IDMap2 wrapper). */
  factory: string;
  metric: BuildMetric;
  dim: number;
}

export interface DeltaCounts {
  removed: number;
  added: number;
  changed: number;
  unchanged: number;
}

export interface Delta {
  counts: DeltaCounts;
  /** Ids to take out of the base index: the removed and the changed. */
  remove: BigInt64Array;
  /** The added and changed rows, in NEW's row order. */
  addIds: BigInt64Array;
  addVectors: Float32Array;
  /** Every NEW row's id and embedding hash, in row order (the new catalog's table). */
  hashes: EmbeddingHashes;
  /** Up to DRIFT_SAMPLE unchanged rows: V1's own vectors, byte for byte (the drift baseline). */
  unchangedSample: Float32Array;
}

export interface Drift {
  /** Mean L2 distance to the nearest coarse centroid: unchanged rows (the base) and added+changed. */
  base_mean: number;
  new_mean: number;
  ratio: number;
  threshold: number;
  exceeded: boolean;
  /** Rows measured on each side. */
  base_rows: number;
  new_rows: number;
}

/** What the manifest of an incremental build records (`incremental`, with `base_version`). */
export interface IncrementalRecord extends DeltaCounts {
  /** True when drift made it an ordinary full build (--retrain-on-drift). */
  retrained: boolean;
  /** Null for an index without an IVF, or when either side had no rows to measure. */
  drift: Drift | null;
}

export interface Incremental {
  base: BaseVersion;
  delta: Delta;
  record: IncrementalRecord;
  /** V1's index, to be changed in place; undefined when the build retrains instead. */
  index: FaissIndex | undefined;
}

/** The base must exist (6) and pass verify level 1, its files' checksums (else 4, 3). */
export async function openBase(
  root: string,
  name: string,
  options: { duckdb?: DuckDBLimits; signal?: AbortSignal },
): Promise<BaseVersion> {
  const dir = requireVersionDir(root, name);
  const { verify } = await import('../verify/verify.js');
  const report = await verify({
    root,
    version: name,
    level: 1,
    ...(options.duckdb ? { duckdb: options.duckdb } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!report.ok) throw gateError(report, 'build incrementally from');
  const manifest = await readManifest(dir);
  return {
    name,
    dir,
    manifest,
    factory: innerFactory(manifest.faiss_factory),
    metric: manifest.metric,
    dim: manifest.vec_dim,
  };
}

/** NEW must have V1's dimension (exit 5, naming both). */
export function checkFitsBase(base: BaseVersion, chunks: ChunksReader): void {
  if (chunks.dim !== base.dim) {
    throw new BadInputError(
      `${chunks.file}: dimension ${chunks.dim}, but base version ${base.name} holds vectors of dimension ${base.dim}`,
    );
  }
}

/**
 * FAISS 1.7.3 can remove from flat codes and (renumbered natively) from IVF lists, also behind a
 * pre-transform; not from an HNSW or NSG graph, fast-scan block lists or a refine stage. Those bases
 * accept additions only (exit 2 naming the reason and the counts).
 */
export function checkRemovable(base: BaseVersion, shape: FactoryShape, counts: DeltaCounts): void {
  if (counts.removed + counts.changed === 0) return;
  const why = cannotRemove(shape);
  if (why) {
    throw new UsageError(
      `--base ${base.name} (${base.factory}): ${counts.removed} removed and ${counts.changed} changed chunks ` +
        `would have to be taken out, but ${why}; such a base accepts additions only: build afresh without --base`,
    );
  }
}

/** Why FAISS 1.7.3 cannot remove from this index, or undefined when it can. */
export function cannotRemove(shape: FactoryShape): string | undefined {
  const first = shape.components.find((c) => c.kind !== 'transform');
  if (first && /^(HNSW|NSG)/.test(first.text)) {
    return `FAISS cannot remove vectors from an ${first.text.replace(/\d.*$/, '')} graph`;
  }
  if (shape.components.some((c) => c.kind === 'codes' && /fs(r?)$/.test(c.text))) {
    return 'FAISS 1.7.3 cannot remove from fast-scan (block) inverted lists';
  }
  if (shape.components.some((c) => c.text === 'RFlat' || c.text.startsWith('Refine('))) {
    return 'FAISS 1.7.3 cannot remove from a refine stage';
  }
  return undefined;
}

/** The base's hashes sorted by id: its catalog's table, else (older versions) its chunks.parquet hashed. */
export async function baseHashes(
  base: BaseVersion,
  open: (file: string, idColumn?: string, embeddingColumn?: string) => Promise<ChunksReader>,
  duckdb: DuckDBLimits | undefined,
  signal: AbortSignal | undefined,
): Promise<EmbeddingHashes> {
  const stored = await readEmbeddingHashes(base.dir, duckdb);
  if (stored) return stored;
  const attrs = base.manifest.attrs ?? {};
  const reader = await open(
    path.join(base.dir, 'chunks.parquet'),
    typeof attrs.id_column === 'string' ? attrs.id_column : undefined,
    typeof attrs.embedding_column === 'string' ? attrs.embedding_column : undefined,
  );
  try {
    const collector = new HashCollector(reader.rows, reader.dim);
    for await (const batch of reader.batches()) {
      signal?.throwIfAborted();
      await collector.offer(batch.ids, batch.vectors, batch.rowOffset);
    }
    return sortedById(collector.result);
  } finally {
    reader.close();
  }
}

/** One pass over NEW: each row's hash against the base's, the added and changed rows kept. */
export async function diffAgainstBase(
  chunks: ChunksReader,
  base: EmbeddingHashes,
  signal: AbortSignal | undefined,
  onRows: (done: number) => void,
): Promise<Delta> {
  const hashes = new HashCollector(chunks.rows, chunks.dim);
  const seen = new Uint8Array(base.ids.length);
  const dim = chunks.dim;
  const addIds: bigint[] = [];
  const addPieces: Float32Array[] = [];
  const sampleEvery = Math.max(1, Math.ceil(chunks.rows / DRIFT_SAMPLE));
  const samplePieces: Float32Array[] = [];
  let changed = 0;
  let unchanged = 0;
  for await (const batch of chunks.batches()) {
    signal?.throwIfAborted();
    await hashes.offer(batch.ids, batch.vectors, batch.rowOffset);
    const own = hashes.hashes.subarray(batch.rowOffset, batch.rowOffset + batch.rows);
    for (let r = 0; r < batch.rows; r++) {
      const id = batch.ids[r]!;
      const at = findId(base.ids, id);
      if (at >= 0) seen[at] = 1;
      if (at >= 0 && base.hashes[at] === own[r]) {
        unchanged++;
        if ((batch.rowOffset + r) % sampleEvery === 0)
          samplePieces.push(batch.vectors.slice(r * dim, (r + 1) * dim));
        continue;
      }
      if (at >= 0) changed++;
      addIds.push(id);
      // Copied: the reader reuses its buffer for the next batch.
      addPieces.push(batch.vectors.slice(r * dim, (r + 1) * dim));
    }
    onRows(batch.rowOffset + batch.rows);
  }
  const removedIds = base.ids.filter((_, i) => seen[i] === 0);
  const changedIds = addIds.filter((id) => findId(base.ids, id) >= 0);
  return {
    counts: { removed: removedIds.length, added: addIds.length - changed, changed, unchanged },
    remove: BigInt64Array.from([...removedIds, ...changedIds]),
    addIds: BigInt64Array.from(addIds),
    addVectors: concat(addPieces, dim),
    hashes: hashes.result,
    unchangedSample: concat(samplePieces, dim),
  };
}

function concat(pieces: Float32Array[], dim: number): Float32Array {
  const out = new Float32Array(pieces.length * dim);
  pieces.forEach((p, i) => out.set(p, i * dim));
  return out;
}

/**
 * Mean distance to the nearest coarse centroid of the added and changed vectors over that of the
 * unchanged ones (V1's own vectors): null without an IVF or when a side is empty.
 */
export function measureDrift(index: FaissIndex, delta: Delta, threshold: number, dim: number): Drift | null {
  const fresh = spread(delta.addVectors, dim, DRIFT_SAMPLE);
  if (fresh.length === 0 || delta.unchangedSample.length === 0) return null;
  let baseDistances: Float32Array;
  try {
    baseDistances = index.coarseDistances(delta.unchangedSample);
  } catch (err) {
    if (err instanceof Error && /needs an IVF index/.test(err.message)) return null;
    throw err;
  }
  const base_mean = mean(baseDistances);
  const new_mean = mean(index.coarseDistances(fresh));
  const ratio = base_mean > 0 ? new_mean / base_mean : 1;
  return {
    base_mean,
    new_mean,
    ratio,
    threshold,
    exceeded: ratio > threshold,
    base_rows: delta.unchangedSample.length / dim,
    new_rows: fresh.length / dim,
  };
}

/** At most `max` rows of `x`, evenly spaced. */
function spread(x: Float32Array, dim: number, max: number): Float32Array {
  const rows = x.length / dim;
  if (rows <= max) return x;
  const out = new Float32Array(max * dim);
  for (let i = 0; i < max; i++) {
    const r = Math.floor((i * rows) / max);
    out.set(x.subarray(r * dim, (r + 1) * dim), i * dim);
  }
  return out;
}

function mean(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v;
  return sum / x.length;
}

/** Takes the removed and changed out of V1's index, then adds the added and changed in NEW's order. */
export async function applyDelta(index: FaissIndex, delta: Delta, base: BaseVersion): Promise<void> {
  if (delta.remove.length > 0) {
    const removed = index.removeIds(delta.remove);
    if (removed !== delta.remove.length) {
      throw new IndexCorruptionError(
        `base version ${base.name}: its index holds ${removed} of the ${delta.remove.length} ids its catalog ` +
          'says it holds (run indexctl verify on it)',
      );
    }
  }
  if (delta.addIds.length > 0) await index.addWithIdsAsync(delta.addVectors, delta.addIds);
}
