/**
 * The trained, empty index that `train` writes and shard builds and `build --trained` start from,
 * with its sidecar `<file>.json`: what it was trained for (factory, metric, dim) and on what
 * (rows, seed), and the file's xxh64, so every shard can prove it started from the same bytes.
 */
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';

import { xxh64Bytes } from '../checksum.js';
import { BadInputError, IndexCorruptionError, NotFoundError, UsageError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { guardWrite } from '../util/env-io.js';
import { writeFileDurable } from '../util/fsync.js';
import type { FactoryShape } from '../build/factory-check.js';
import type { BuildMetric } from '../build/plan.js';

export const TRAINED_SCHEMA = 'indexctl.trained/1';

export interface TrainedSidecar {
  schema: typeof TRAINED_SCHEMA;
  /** The inner factory string (the IDMap2 wrapper is made in code, as in a build). */
  factory: string;
  metric: BuildMetric;
  dim: number;
  /** Vectors trained on (0: the factory needs no training). */
  train_rows: number;
  train_seed: number;
  source_chunks: string;
  bytes: number;
  checksum: string;
}

export interface Trained {
  file: string;
  sidecar: TrainedSidecar;
  /** The trained file's bytes: every copy of the index is made from them. */
  bytes: Buffer;
}

/** Where a mergeable alternative to a refused factory is named. */
const MERGEABLE_HINT =
  'e.g. --factory IVF4096_HNSW32,PQ48 (an IVF whose coarse quantizer is HNSW), IVF4096,Flat or Flat';

/**
 * Shards are merged with FAISS merge_from, which exists for IVF and flat-code indexes only: an HNSW
 * or NSG graph cannot be merged, and FAISS 1.7.3 merges no pre-transform (PCA, OPQ, ...) or refine
 * wrapper. Refused before any vector is read (exit 2).
 */
export function checkMergeable(shape: FactoryShape, flag = '--factory'): void {
  const first = shape.components.find((c) => c.kind !== 'transform');
  const transform = shape.components.find((c) => c.kind === 'transform');
  let why: string | undefined;
  if (first && /^(HNSW|NSG)/.test(first.text)) {
    why = `${first.text.replace(/\d.*$/, '')} graphs cannot be merged in FAISS (merge_from exists for IVF and flat-code indexes only)`;
  } else if (transform) {
    why = `FAISS 1.7.3 cannot merge an index behind the ${transform.text} transform`;
  } else if (shape.components.some((c) => c.kind === 'codes' && /fs(r?)$/.test(c.text))) {
    why =
      'FAISS 1.7.3 cannot merge fast-scan codes (its block lists abort the process on merge); use the same codes without "fs"';
  } else if (shape.components.some((c) => c.text === 'RFlat' || c.text.startsWith('Refine('))) {
    why = 'FAISS 1.7.3 cannot merge a refine stage';
  }
  if (why) {
    throw new UsageError(
      `${flag} ${JSON.stringify(shape.factory)}: shards of this index could not be merged: ${why}; use a mergeable one, ${MERGEABLE_HINT}`,
    );
  }
}

export function sidecarPath(file: string): string {
  return `${file}.json`;
}

/** Writes the index bytes, then the sidecar naming their checksum (each atomically). */
export async function writeTrained(
  file: string,
  index: FaissIndex,
  facts: Omit<TrainedSidecar, 'schema' | 'bytes' | 'checksum'>,
): Promise<TrainedSidecar> {
  const bytes = index.toBuffer();
  const sidecar: TrainedSidecar = {
    schema: TRAINED_SCHEMA,
    ...facts,
    bytes: bytes.length,
    checksum: await xxh64Bytes(bytes),
  };
  // A job writes into a fresh shared directory (trained/ beside shards/): made, as for a shard's DIR.
  await guardWrite(`cannot write ${file}`, file, () =>
    mkdir(path.dirname(path.resolve(file)), { recursive: true }),
  );
  await writeFileDurable(file, bytes);
  await writeFileDurable(sidecarPath(file), JSON.stringify(sidecar, null, 2) + '\n');
  return sidecar;
}

/** Reads a trained file and its sidecar; a file whose bytes no longer match the sidecar is exit 4. */
export async function readTrained(file: string): Promise<Trained> {
  const bytes = await readOrNotFound(file, 'trained index');
  const text = (await readOrNotFound(sidecarPath(file), 'trained index sidecar')).toString('utf8');
  const sidecar = parseSidecar(sidecarPath(file), text);
  const checksum = await xxh64Bytes(bytes);
  if (checksum !== sidecar.checksum || bytes.length !== sidecar.bytes) {
    throw new IndexCorruptionError(
      `${file}: ${bytes.length} bytes with checksum ${checksum}, but ${sidecarPath(file)} records ` +
        `${sidecar.bytes} bytes with ${sidecar.checksum}; the trained index was changed or damaged`,
    );
  }
  return { file, sidecar, bytes };
}

/** A fresh, empty copy of the trained index, checked to be what a build starts from. */
export function copyTrained(trained: Trained): FaissIndex {
  const index = FaissIndex.fromBuffer(trained.bytes);
  const { className, ntotal, isTrained, d } = index;
  if (!className.startsWith('IndexIDMap2<') || ntotal !== 0 || !isTrained || d !== trained.sidecar.dim) {
    index.dispose();
    throw new BadInputError(
      `${trained.file}: not a trained, empty IndexIDMap2 of dimension ${trained.sidecar.dim} ` +
        `(it is ${className}, d=${d}, ${ntotal} vectors, trained: ${isTrained}); make it with indexctl train`,
    );
  }
  return index;
}

/** The data a build or shard reads must fit the trained index (exit 5 naming both files). */
export function checkTrainedFits(
  trained: Trained,
  chunksFile: string,
  dim: number,
  metric: BuildMetric,
): void {
  const s = trained.sidecar;
  if (s.dim !== dim || s.metric !== metric) {
    throw new BadInputError(
      `${chunksFile}: dimension ${dim}, metric ${metric}, but ${trained.file} was trained for dimension ${s.dim}, metric ${s.metric}` +
        (s.metric !== metric ? ` (pass --metric ${s.metric})` : ''),
    );
  }
}

async function readOrNotFound(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`${file}: ${what} not found (write it with indexctl train)`, { cause: err });
    }
    throw err;
  }
}

function parseSidecar(file: string, text: string): TrainedSidecar {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new IndexCorruptionError(`${file}: not JSON: ${(err as Error).message}`, { cause: err });
  }
  const s = value as Partial<TrainedSidecar>;
  if (
    s?.schema !== TRAINED_SCHEMA ||
    typeof s.factory !== 'string' ||
    typeof s.dim !== 'number' ||
    typeof s.checksum !== 'string' ||
    typeof s.bytes !== 'number' ||
    !['l2', 'ip', 'cosine'].includes(s.metric as string)
  ) {
    throw new IndexCorruptionError(
      `${file}: not an ${TRAINED_SCHEMA} sidecar (factory, metric, dim, bytes, checksum)`,
    );
  }
  return s as TrainedSidecar;
}
