/**
 * `merge DIR... --version V`: checks shard directories against each other and against their own
 * checksums, merges their indexes (FAISS merge_from) and seals an ordinary version through build's
 * path (staging, catalog, manifest, the lock only for the rename). Every refusal names the shard and
 * happens before anything is staged: invariant mismatches (another training, a shard missing or given
 * twice, an id in two shards, another input) are exit 3, damaged files exit 4.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';

import { checkUnchanged, columnAttrs, seal, sourceAttrs, statInput } from '../build/build.js';
import { placeDataset } from '../build/place.js';
import { resolveDataset, type Dataset } from '../parquet/dataset.js';
import { createCatalog } from '../catalog/create.js';
import { xxh64File } from '../checksum.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { guardWrite } from '../util/env-io.js';
import { IndexCorruptionError, InvariantViolationError, UsageError } from '../errors.js';
import type { FaissIndex } from '../faiss/index.js';
import { readIndexChecked } from '../version/read-index.js';
import {
  checkVersionName,
  defaultVersionName,
  ensureRoot,
  makeStagingDir,
  removeStagingDir,
  versionExists,
} from '../layout.js';
import { writeManifestAtomic, type Manifest } from '../manifest/schema.js';
import { readIdMap } from '../parquet/idmap-reader.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { assembleManifest } from '../manifest/assemble.js';
import { SHARD_FILES, readShardManifest, type ShardInput, type ShardManifest } from './shard-manifest.js';

export interface MergeOptions {
  root: string;
  shards: string[];
  version?: string;
  /** The chunks file the version holds (default: the input the shards recorded). */
  chunks?: string;
  materialize?: boolean;
  linkChunks?: boolean;
  waitSeconds?: number;
  duckdb?: DuckDBLimits;
  signal?: AbortSignal;
}

export interface MergeReport {
  version: string;
  dir: string;
  shards: number;
  vectors: number;
  manifest: Manifest;
  seconds: Record<string, number>;
}

interface Shard {
  dir: string;
  manifest: ShardManifest;
}

export async function mergeShards(options: MergeOptions): Promise<MergeReport> {
  const version = checkVersionName(options.version ?? defaultVersionName());
  if (options.shards.length === 0) throw new UsageError('merge needs at least one shard directory');
  const seconds: Record<string, number> = {};
  const timed = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    const out = await fn();
    seconds[name] = (performance.now() - t) / 1000;
    return out;
  };
  const shards: Shard[] = [];
  for (const dir of options.shards) {
    shards.push({ dir: path.resolve(dir), manifest: await readShardManifest(dir) });
  }
  const ordered = checkShardSet(shards);
  await timed('checksum_shards', () => checkShardFiles(ordered, options.signal));
  await timed('check_ids', () => checkDisjointIds(ordered));
  const recorded = ordered[0]!.manifest;
  const dataset: Pick<Dataset, 'source' | 'files'> = options.chunks
    ? await resolveDataset(options.chunks, options.duckdb)
    : {
        source: recorded.dataset ?? recorded.inputs[0]!.file,
        files: recorded.inputs.map((i) => path.resolve(i.file)),
      };
  const inputStats = await checkChunksInput(dataset.files, ordered[0]!);

  await ensureRoot(options.root);
  if (versionExists(options.root, version)) {
    throw new UsageError(
      `version ${version} already exists; versions are immutable (choose another --version)`,
    );
  }
  const staging = await makeStagingDir(options.root, version);
  try {
    const manifest = await guardWrite(`cannot merge into ${version}`, staging, async () => {
      const placing = placeDataset(dataset.files, path.join(staging, 'chunks.parquet'), {
        linkChunks: options.linkChunks ?? false,
        ...(options.duckdb ? { limits: options.duckdb } : {}),
        spillDirectory: path.join(staging, '.duckdb-copy-spill'),
        label: dataset.source,
        signal: options.signal,
      });
      placing.catch(() => undefined);
      // Between stages, a cancellation stops the merge at once (the chunks' copy stops itself).
      const stop = (): void => options.signal?.throwIfAborted();
      const merged = await timed('merge', () => mergeIndexes(ordered));
      try {
        stop();
        await timed('write_index', () => merged.writeAsync(path.join(staging, 'faiss.index')));
        stop();
        await timed('write_idmap', () => writeIdMap(path.join(staging, 'idmap.parquet'), merged.idMap()));
        stop();
      } finally {
        merged.dispose();
        await placing.catch(() => undefined);
      }
      await timed('copy_chunks_wait', () =>
        placing.catch((err) => checkUnchanged(dataset.files, inputStats).then(() => Promise.reject(err))),
      );
      await checkUnchanged(dataset.files, inputStats);
      await rm(path.join(staging, '.duckdb-copy-spill'), { recursive: true, force: true });
      const first = ordered[0]!.manifest;
      await timed('catalog', () =>
        createCatalog(staging, {
          signal: options.signal,
          materialize: options.materialize ?? false,
          ...(options.duckdb ? { duckdb: options.duckdb } : {}),
          columns: { ...first.metadata_columns, id: first.id_column, embedding: first.embedding_column },
        }),
      );
      const m = await timed('checksum', () =>
        assembleManifest(staging, {
          version,
          factory: `IDMap2,${first.factory}`,
          metric: first.metric,
          dim: first.dim,
          vectors: ordered.reduce((n, s) => n + s.manifest.vectors, 0),
          attrs: {
            ...sourceAttrs(dataset),
            ...columnAttrs(first.id_column, first.embedding_column, first.metadata_columns),
            train_sample: first.train_rows,
            train_seed: first.train_seed,
            trained_checksum: first.trained.checksum,
            merged_shards: first.shards,
            materialized: options.materialize ?? false,
          },
          ...(options.signal ? { signal: options.signal } : {}),
        }),
      );
      await writeManifestAtomic(staging, m);
      return m;
    });
    const dir = await seal(options, version, staging);
    return { version, dir, shards: ordered.length, vectors: manifest.vectors_count, manifest, seconds };
  } catch (err) {
    await removeStagingDir(staging);
    throw err;
  }
}

/** The columns a shard read, as one comparable line: `id=id embedding=embedding uri=path`. */
function columnNames(m: ShardManifest): string {
  const renamed = Object.entries(m.metadata_columns ?? {}).sort(([a], [b]) => (a < b ? -1 : 1));
  return [['id', m.id_column], ['embedding', m.embedding_column], ...renamed]
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** The shards in order 0..N-1: one training, one N, one input, each shard exactly once. */
export function checkShardSet(shards: Shard[]): Shard[] {
  const first = shards[0]!;
  const n = first.manifest.shards;
  const byIndex = new Map<number, Shard>();
  for (const s of shards) {
    const m = s.manifest;
    if (m.trained.checksum !== first.manifest.trained.checksum) {
      throw new InvariantViolationError(
        `${s.dir}: built from trained index ${m.trained.checksum} (${m.trained.file}), but ${first.dir} from ` +
          `${first.manifest.trained.checksum} (${first.manifest.trained.file}); shards of one version start from one trained file`,
      );
    }
    if (m.shards !== n) {
      throw new InvariantViolationError(
        `${s.dir}: shard ${m.shard}/${m.shards}, but ${first.dir} is one of ${n} shards`,
      );
    }
    const columns = columnNames(m);
    if (columns !== columnNames(first.manifest)) {
      throw new InvariantViolationError(
        `${s.dir}: built reading columns ${columns}, but ${first.dir} ${columnNames(first.manifest)}; shards of one version read one set of columns`,
      );
    }
    const differs = inputDifference(m.inputs, first.manifest.inputs);
    if (differs) {
      throw new InvariantViolationError(
        `${s.dir}: ${differs.mine}, but ${first.dir} ${differs.theirs}; shards of one version split one input`,
      );
    }
    const twin = byIndex.get(m.shard);
    if (twin) {
      throw new InvariantViolationError(`${s.dir}: shard ${m.shard}/${n} is given twice (also ${twin.dir})`);
    }
    byIndex.set(m.shard, s);
  }
  const missing = Array.from({ length: n }, (_, i) => i).filter((i) => !byIndex.has(i));
  if (missing.length > 0) {
    throw new InvariantViolationError(
      `shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${n}`).join(', ')} missing: ` +
        `${shards.length} of ${n} given (${shards.map((s) => s.dir).join(', ')})`,
    );
  }
  return Array.from({ length: n }, (_, i) => byIndex.get(i)!);
}

async function checkShardFiles(shards: Shard[], signal: AbortSignal | undefined): Promise<void> {
  for (const s of shards) {
    for (const name of SHARD_FILES) {
      const file = path.join(s.dir, name);
      const want = s.manifest.files[name];
      let got: string;
      try {
        got = await xxh64File(file, signal ? { signal } : {});
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
        throw new IndexCorruptionError(
          `${file}: missing from shard ${s.manifest.shard}/${s.manifest.shards}`,
          {
            cause: err,
          },
        );
      }
      if (got !== want.checksum) {
        throw new IndexCorruptionError(
          `${file}: checksum ${got}, shard.json records ${want.checksum}; shard ${s.manifest.shard}/${s.manifest.shards} is damaged (build it again)`,
        );
      }
    }
  }
}

/** Where two shards' input records part, in words for an error; undefined when they are the same. */
function inputDifference(
  mine: readonly ShardInput[],
  theirs: readonly ShardInput[],
): { mine: string; theirs: string } | undefined {
  const describe = (i: ShardInput): string =>
    `${i.file} (${i.rows} rows, ${i.bytes} bytes, ${i.row_groups_total} row groups)`;
  if (mine.length !== theirs.length) {
    return {
      mine: `covers ${mine.length} file${mine.length === 1 ? '' : 's'} (${mine.map((i) => i.file).join(', ')})`,
      theirs: `covers ${theirs.length} (${theirs.map((i) => i.file).join(', ')})`,
    };
  }
  for (const [k, a] of mine.entries()) {
    const b = theirs[k]!;
    if (a.bytes !== b.bytes || a.rows !== b.rows || a.row_groups_total !== b.row_groups_total) {
      const which = mine.length > 1 ? `file ${k + 1} of ${mine.length} ` : '';
      return { mine: `covers as ${which}${describe(a)}`, theirs: `covers ${describe(b)}` };
    }
  }
  return undefined;
}

/**
 * The version's chunks must be the input the shards split: as many files, in order, each of the
 * recorded size.
 */
async function checkChunksInput(files: readonly string[], shard: Shard) {
  const inputs = shard.manifest.inputs;
  if (files.length !== inputs.length) {
    throw new InvariantViolationError(
      `--chunks: ${files.length} file${files.length === 1 ? '' : 's'} (${files.join(', ')}), but the shards were built from ` +
        `${inputs.length} (${inputs.map((i) => i.file).join(', ')}); merge with the chunks the shards split`,
    );
  }
  const stats = [];
  for (const [k, file] of files.entries()) {
    const input = inputs[k]!;
    const st = await statInput(file);
    if (!st) throw new UsageError(`--chunks ${file}: not found`);
    if (st.size !== input.bytes) {
      throw new InvariantViolationError(
        `${file}: ${st.size} bytes, but the shards were built from ${input.file} of ${input.bytes} bytes; ` +
          'merge with the chunks file the shards split (--chunks)',
      );
    }
    stats.push(st);
  }
  return stats;
}

/**
 * No id in two shards, from the shards' (checksummed) idmap files, before anything is staged: all
 * ids in one sorted BigInt64Array (8 bytes a vector), a duplicate then named with both shards.
 */
async function checkDisjointIds(shards: Shard[]): Promise<void> {
  const parts: BigInt64Array[] = [];
  for (const s of shards) parts.push((await readIdMap(path.join(s.dir, 'idmap.parquet'))).externalId);
  const all = new BigInt64Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  all.sort();
  for (let i = 1; i < all.length; i++) {
    if (all[i] !== all[i - 1]) continue;
    const id = all[i]!;
    const holders = shards.filter((_, k) => parts[k]!.includes(id));
    const named = holders.map((h) => `${h.manifest.shard}/${h.manifest.shards} (${h.dir})`).join(' and ');
    throw new InvariantViolationError(`id ${id} is in shards ${named}; an id belongs to one shard`);
  }
}

/** Shard 0 takes every other shard in order (the addon refuses an id in both, a last line). */
async function mergeIndexes(shards: Shard[]): Promise<FaissIndex> {
  const into = await readIndexChecked(path.join(shards[0]!.dir, 'faiss.index'));
  try {
    for (const [k, s] of shards.entries()) {
      const index = k === 0 ? into : await readIndexChecked(path.join(s.dir, 'faiss.index'));
      try {
        if (index.ntotal !== s.manifest.vectors) {
          throw new IndexCorruptionError(
            `${s.dir}/faiss.index: ${index.ntotal} vectors, shard.json records ${s.manifest.vectors}`,
          );
        }
        if (k > 0) into.mergeFrom(index);
      } finally {
        if (k > 0) index.dispose();
      }
    }
    return into;
  } catch (err) {
    into.dispose();
    throw err;
  }
}
