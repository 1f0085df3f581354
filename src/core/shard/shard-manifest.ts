/**
 * shard.json: what a shard directory holds and where it came from. The merge trusts nothing else:
 * the trained file's checksum ties every shard to one training, I/N and the row groups say which
 * part of the input it covers, the file checksums catch damage in transit (docs/scaling.md).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';

import { IndexCorruptionError, NotFoundError } from '../errors.js';
import type { MetadataColumn } from '../build/build.js';
import type { BuildMetric } from '../build/plan.js';

export const SHARD_SCHEMA = 'indexctl.shard/1';
export const SHARD_FILES = ['faiss.index', 'idmap.parquet'] as const;
export type ShardFile = (typeof SHARD_FILES)[number];

export interface ShardInput {
  /** Absolute path when the shard was built. */
  file: string;
  bytes: number;
  rows: number;
  row_groups_total: number;
  /** The row groups of this file in the shard, numbered within the file. */
  row_groups: number[];
  rows_covered: number;
}

export interface ShardManifest {
  schema: typeof SHARD_SCHEMA;
  shard: number;
  shards: number;
  trained: { file: string; checksum: string };
  factory: string;
  metric: BuildMetric;
  dim: number;
  train_rows: number;
  train_seed: number;
  id_column: string;
  embedding_column: string;
  /** The hydration columns `--uri-column` etc. renamed (absent when none was, and before they were recorded). */
  metadata_columns?: Partial<Record<MetadataColumn, string>>;
  /**
   * The input's files in dataset order, each with its share (global row group g -> shard g mod N,
   * counted across the files in order). Shards written before datasets list one file.
   */
  inputs: ShardInput[];
  /** The `--chunks` argument made absolute (a file, a directory or a glob); absent before datasets. */
  dataset?: string;
  vectors: number;
  files: Record<ShardFile, { bytes: number; checksum: string }>;
}

export async function readShardManifest(dir: string): Promise<ShardManifest> {
  const file = path.join(dir, 'shard.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotFoundError(`${dir}: no shard.json; not a shard directory (build --shard I/N --out DIR)`, {
        cause: err,
      });
    }
    throw err;
  }
  let value: Partial<ShardManifest>;
  try {
    value = JSON.parse(text) as Partial<ShardManifest>;
  } catch (err) {
    throw new IndexCorruptionError(`${file}: not JSON (${(err as Error).message}); the shard is damaged`, {
      cause: err,
    });
  }
  if (
    value.schema !== SHARD_SCHEMA ||
    !Number.isSafeInteger(value.shard) ||
    !Number.isSafeInteger(value.shards) ||
    typeof value.trained?.checksum !== 'string' ||
    !Array.isArray(value.inputs) ||
    typeof value.files !== 'object' ||
    SHARD_FILES.some((f) => typeof value.files?.[f]?.checksum !== 'string')
  ) {
    throw new IndexCorruptionError(`${file}: not an ${SHARD_SCHEMA} manifest; the shard is damaged`);
  }
  return value as ShardManifest;
}
