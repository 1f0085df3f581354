/**
 * `build --trained T --shard I/N --out DIR`: adds this shard's row groups to a copy of the trained
 * index and writes DIR (faiss.index, idmap.parquet, shard.json). No root and no lock: shards are
 * private to their job until `merge` checks and seals them. The same shard built twice gives the same
 * bytes (same trained bytes, same rows in the same order), so a retried job is harmless.
 */
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { checkMetadataColumns, openInput } from '../build/build.js';
import { xxh64File } from '../checksum.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { UsageError } from '../errors.js';
import { guardWrite } from '../util/env-io.js';
import type { FaissIndex } from '../faiss/index.js';
import type { ChunksReader } from '../parquet/chunks-reader.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { SHARD_FILES, SHARD_SCHEMA, type ShardManifest } from './shard-manifest.js';
import { shardShare, type ShardShare, type ShardSpec } from './split.js';
import { checkTrainedFits, copyTrained, type Trained } from './trained.js';

export interface ShardBuildOptions {
  chunks: string;
  trained: Trained;
  shard: ShardSpec;
  out: string;
  idColumn?: string;
  embeddingColumn?: string;
  duckdb?: DuckDBLimits;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export async function buildShard(options: ShardBuildOptions): Promise<ShardManifest> {
  const { trained, shard } = options;
  const metric = trained.sidecar.metric;
  const chunks = await openInput(options, metric);
  const out = path.resolve(options.out);
  // Written beside DIR and renamed into place: a DIR that exists is always a whole shard.
  const tmp = `${out}.tmp-${process.pid}`;
  try {
    // The merge seals a version from these rows: its catalog needs the hydration columns.
    checkMetadataColumns(chunks, {});
    checkTrainedFits(trained, chunks.file, chunks.dim, metric);
    await checkReplaceable(out);
    const share = shardShare(await chunks.rowGroupRows(), shard);
    const bytes = (await stat(chunks.file)).size;
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
          id_column: chunks.idColumn,
          embedding_column: chunks.embeddingColumn,
          inputs: [
            {
              file: chunks.file,
              bytes,
              rows: chunks.rows,
              row_groups_total: chunks.rowGroups,
              row_groups: share.rowGroups,
              rows_covered: share.rows,
            },
          ],
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

/** Adds the rows of the shard's row groups, in file order; the other rows are read and skipped. */
async function addShare(
  index: FaissIndex,
  chunks: ChunksReader,
  share: ShardShare,
  options: ShardBuildOptions,
): Promise<void> {
  index.reserve(share.rows);
  const dim = chunks.dim;
  let done = 0;
  let r = 0;
  for await (const batch of chunks.batches()) {
    options.signal?.throwIfAborted();
    const batchEnd = batch.rowOffset + batch.rows;
    while (r < share.ranges.length && share.ranges[r]![1] <= batch.rowOffset) r++;
    for (let k = r; k < share.ranges.length && share.ranges[k]![0] < batchEnd; k++) {
      const from = Math.max(share.ranges[k]![0], batch.rowOffset) - batch.rowOffset;
      const to = Math.min(share.ranges[k]![1], batchEnd) - batch.rowOffset;
      // Copies: the reader reuses its buffers while FAISS works on a worker thread.
      await index.addWithIdsAsync(batch.vectors.slice(from * dim, to * dim), batch.ids.slice(from, to));
      done += to - from;
      options.onProgress?.(done, share.rows);
    }
  }
}
