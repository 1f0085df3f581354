/**
 * `build --trained T --shard I/N --out DIR`: adds this shard's row groups (and reads only those) to a
 * copy of the trained index and writes DIR (faiss.index, idmap.parquet, shard.json). No root and no lock: shards are
 * private to their job until `merge` checks and seals them. The same shard built twice gives the same
 * bytes (same trained bytes, same rows in the same order), so a retried job is harmless.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { checkMetadataColumns, columnAttrs, openInput, type MetadataColumn } from '../build/build.js';
import { xxh64File } from '../checksum.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { UsageError } from '../errors.js';
import { guardWrite } from '../util/env-io.js';
import type { FaissIndex } from '../faiss/index.js';
import type { ChunksReader } from '../parquet/chunks-reader.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { resolveDataset } from '../parquet/dataset.js';
import { SHARD_FILES, SHARD_SCHEMA, type ShardInput, type ShardManifest } from './shard-manifest.js';
import { shardShare, type ShardShare, type ShardSpec } from './split.js';
import { checkTrainedFits, copyTrained, type Trained } from './trained.js';

export interface ShardBuildOptions {
  chunks: string;
  trained: Trained;
  shard: ShardSpec;
  out: string;
  idColumn?: string;
  embeddingColumn?: string;
  /** Hydration columns renamed by `--uri-column` etc.: checked here, recorded for the merge's catalog. */
  metadataColumns?: Partial<Record<MetadataColumn, string>>;
  duckdb?: DuckDBLimits;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function buildShard(options: ShardBuildOptions): Promise<ShardManifest> {
  const { trained, shard } = options;
  const metric = trained.sidecar.metric;
  const dataset = await resolveDataset(options.chunks, options.duckdb);
  const chunks = await openInput({ ...options, chunks: dataset }, metric);
  const out = path.resolve(options.out);
  // Written beside DIR and renamed into place: a DIR that exists is always a whole shard.
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    // The merge seals a version from these rows: its catalog needs the hydration columns.
    const metadataColumns = options.metadataColumns ?? {};
    checkMetadataColumns(chunks, metadataColumns);
    checkTrainedFits(trained, chunks.file, chunks.dim, metric);
    await checkReplaceable(out);
    const groupRows = await chunks.rowGroupRows();
    const share = shardShare(groupRows, shard);
    const inputs = await shardInputs(chunks, groupRows, share);
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    const manifest = await guardWrite(`cannot write shard ${out}`, tmp, async () => {
      const index = copyTrained(trained);
      try {
        await addShare(index, chunks, share, options);
        await index.writeAsync(path.join(tmp, 'faiss.index'));
        await writeIdMap(path.join(tmp, 'idmap.parquet'), index.idMap());
        const vectors = index.ntotal;
        const files = {} as ShardManifest['files'];
        for (const name of SHARD_FILES) {
          const file = path.join(tmp, name);
          files[name] = { bytes: (await stat(file)).size, checksum: await xxh64File(file) };
        }
        const m: ShardManifest = {
          schema: SHARD_SCHEMA,
          shard: shard.index,
          shards: shard.count,
          trained: { file: path.resolve(trained.file), checksum: trained.sidecar.checksum },
          factory: trained.sidecar.factory,
          metric,
          dim: chunks.dim,
          train_rows: trained.sidecar.train_rows,
          train_seed: trained.sidecar.train_seed,
          ...columnAttrs(chunks.idColumn, chunks.embeddingColumn, metadataColumns),
          inputs,
          dataset: dataset.source,
          vectors,
          files,
        };
        await writeFile(path.join(tmp, 'shard.json'), JSON.stringify(m, null, 2) + '\n');
        return m;
      } finally {
        index.dispose();
      }
    });
    await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
    return manifest;
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  } finally {
    chunks.close();
  }
}

/**
 * A retried job writes over its earlier shard; anything else at DIR (a file, a directory with other
 * content) is refused, never removed (exit 2).
 */
async function checkReplaceable(out: string): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(out);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code === 'ENOTDIR')
      throw new UsageError(`--out ${out}: a file is there; the shard directory must be new`);
    throw err;
  }
  const ours = new Set<string>(['shard.json', ...SHARD_FILES]);
  const foreign = entries.filter((e) => !ours.has(e));
  if (foreign.length > 0 || (entries.length > 0 && !entries.includes('shard.json'))) {
    throw new UsageError(
      `--out ${out}: not empty and not a shard directory (has ${entries.slice(0, 5).join(', ')}); ` +
        'a shard is written to a new directory or over an earlier build of a shard',
    );
  }
}

/**
 * Every file of the input with its part of the share: the global row groups mapped back to each
 * file's own numbering, so the record reads like the footer of that file.
 */
async function shardInputs(
  chunks: ChunksReader,
  groupRows: readonly number[],
  share: ShardShare,
): Promise<ShardInput[]> {
  const inputs: ShardInput[] = [];
  for (const input of chunks.inputs) {
    const end = input.firstRowGroup + input.rowGroups;
    const mine = share.rowGroups.filter((g) => g >= input.firstRowGroup && g < end);
    inputs.push({
      file: input.file,
      bytes: (await stat(input.file)).size,
      rows: input.rows,
      row_groups_total: input.rowGroups,
      row_groups: mine.map((g) => g - input.firstRowGroup),
      rows_covered: mine.reduce((n, g) => n + groupRows[g]!, 0),
    });
  }
  return inputs;
}

/**
 * Adds the rows of the shard's row groups, in dataset order. Only those rows are read: the reader
 * skips files with none and lets DuckDB prune the other row groups (chunks-reader.ts).
 */
async function addShare(
  index: FaissIndex,
  chunks: ChunksReader,
  share: ShardShare,
  options: ShardBuildOptions,
): Promise<void> {
  index.reserve(share.rows);
  let done = 0;
  for await (const batch of chunks.batches({ ranges: share.ranges })) {
    options.signal?.throwIfAborted();
    // Copies: the reader reuses its buffers while FAISS works on a worker thread.
    await index.addWithIdsAsync(batch.vectors.slice(), batch.ids.slice());
    done += batch.rows;
    options.onProgress?.(done, share.rows);
  }
}
