/**
 * `write-manifest`: (re)computes counts and checksums and writes manifest.json. This is how a version
 * directory made by another tool (a Python pipeline writing faiss.index and chunks.parquet) is
 * adopted: the id map and catalog are derived when missing, the index, id map and chunks are checked
 * against each other, and only a consistent directory is sealed with a manifest. A legacy manifest
 * the pipeline left (src/core/manifest/schema.ts) is adopted: its facts are checked against the files (exit 3 naming
 * both values) and its created_ts, tuning and attrs kept, its checksums recorded under attrs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { createCatalog } from '../catalog/create.js';
import { openCatalog } from '../catalog/open.js';
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { BadInputError, FaissError, InvariantViolationError, NotFoundError, UsageError } from '../errors.js';
import { readVersionIndex } from '../version/read-index.js';
import { factoryClassName, sameStructure, withIdMap2 } from '../faiss/factory-class.js';
import type { FaissIndex } from '../faiss/index.js';
import { requireVersionDir } from '../layout.js';
import { acquireWriterLock } from '../lock.js';
import {
  manifestPath,
  readAnyManifest,
  writeManifestAtomic,
  type LegacyManifest,
  type Manifest,
  type Metric,
} from '../manifest/schema.js';
import { readIdMap } from '../parquet/idmap-reader.js';
import { writeIdMap } from '../parquet/idmap-writer.js';
import { assembleManifest } from '../manifest/assemble.js';

export interface WriteManifestOptions {
  root: string;
  version: string;
  /** The factory string the index was built with; derived for Flat indexes, required otherwise. */
  factory?: string;
  /** Default: the previous manifest's, else the index's (cosine cannot be seen in the file: say so here). */
  metric?: Metric;
  attrs?: Record<string, string>;
  waitSeconds?: number;
  /** DuckDB memory and thread limits (duckdb-limits.ts). */
  duckdb?: DuckDBLimits;
}

export interface WriteManifestReport {
  version: string;
  dir: string;
  derived: string[];
  manifest: Manifest;
}

function factoryOf(className: string, given: string | undefined): string {
  if (given !== undefined) return /^IDMap2?,/i.test(given) ? given : `IDMap2,${given}`;
  if (/^IndexIDMap2<IndexFlat(L2|IP)?>$/.test(className)) return 'IDMap2,Flat';
  throw new UsageError(
    `cannot derive the factory string of ${className} from the file: pass --factory (e.g. HNSW32)`,
  );
}

function metricOf(inIndex: string, given: Metric | undefined): Metric {
  if (given !== undefined) {
    // cosine is inner product over normalized vectors: the file says ip.
    const stored = given === 'cosine' ? 'ip' : given;
    if (stored !== inIndex) {
      throw new UsageError(`--metric ${given} does not match faiss.index, whose metric is ${inIndex}`);
    }
    return given;
  }
  if (inIndex === 'l2' || inIndex === 'ip') return inIndex;
  throw new UsageError(`the index metric is ${inIndex}: pass --metric`);
}

/**
 * The factory string must build the class the file holds: a wrong `--factory` would seal a manifest
 * with the wrong family (and so the wrong smoke threshold and tuning knobs).
 */
async function checkFactoryBuilds(factory: string, index: FaissIndex): Promise<void> {
  let className: string;
  try {
    className = await factoryClassName(factory, index.d, index.metric === 'ip' ? 'ip' : 'l2');
  } catch (err) {
    // A factory FAISS rejects is bad input to build, a bad flag here.
    if (err instanceof BadInputError) throw new UsageError(err.message);
    throw err;
  }
  if (!sameStructure(className, index.className)) {
    throw new UsageError(
      `--factory ${factory} builds ${className}, but faiss.index is ${index.className}: pass the factory it was built with`,
    );
  }
}

/**
 * A legacy manifest's facts must be the files' facts before it is replaced: a disagreement means the
 * directory is not what the pipeline recorded, and is exit 3 naming both values. The factory is
 * checked only when it is the one adopted (a `--factory` flag overrides it, and is checked itself).
 */
async function checkLegacyAgainstIndex(
  file: string,
  legacy: LegacyManifest,
  index: FaissIndex,
  checkFactory: boolean,
): Promise<void> {
  const problems: string[] = [];
  if (legacy.vec_dim !== index.d)
    problems.push(`vec_dim ${legacy.vec_dim}, but faiss.index has d = ${index.d}`);
  if (legacy.vectors_count !== index.ntotal) {
    problems.push(`vectors_count ${legacy.vectors_count}, but faiss.index holds ${index.ntotal} vectors`);
  }
  if (checkFactory && problems.length === 0) {
    const factory = withIdMap2(legacy.faiss_factory);
    let className: string;
    try {
      className = await factoryClassName(factory, index.d, index.metric === 'ip' ? 'ip' : 'l2');
    } catch (err) {
      if (!(err instanceof BadInputError)) throw err;
      className = `nothing (FAISS rejects it: ${err.message})`;
    }
    if (!sameStructure(className, index.className)) {
      problems.push(
        `faiss_factory ${legacy.faiss_factory} builds ${className}, but faiss.index is ${index.className} ` +
          `(pass --factory with the factory it was built with)`,
      );
    }
  }
  if (problems.length > 0) {
    throw new InvariantViolationError(
      `${file}: the legacy manifest disagrees with the files: ${problems.join('; ')}`,
    );
  }
}

/** What the adopted manifest keeps of a legacy one besides created_ts and tuning: its attrs and checksums. */
function legacyAttrs(legacy: LegacyManifest, factory: string): Record<string, unknown> {
  return {
    ...legacy.attrs,
    legacy_chunks_checksum: legacy.chunks_checksum,
    ...(legacy.idmap_checksum != null ? { legacy_idmap_checksum: legacy.idmap_checksum } : {}),
    ...(factory.replace(/^IDMap2?,/i, '') !== legacy.faiss_factory.replace(/^IDMap2?,/i, '')
      ? { legacy_faiss_factory: legacy.faiss_factory }
      : {}),
  };
}

function firstIds(ids: readonly bigint[], count: number): string {
  return `${ids.slice(0, 5).join(', ')}${count > 5 ? ', ...' : ''} (${count} in all)`;
}

export async function writeManifest(options: WriteManifestOptions): Promise<WriteManifestReport> {
  const dir = requireVersionDir(options.root, options.version);
  if (!existsSync(path.join(dir, 'chunks.parquet')))
    throw new NotFoundError(`${path.join(dir, 'chunks.parquet')}: missing`);
  const lock = await acquireWriterLock(options.root, {
    command: `write-manifest ${options.version}`,
    ...(options.waitSeconds !== undefined ? { waitSeconds: options.waitSeconds } : {}),
  });
  try {
    const existing = existsSync(manifestPath(dir)) ? await readAnyManifest(dir) : undefined;
    const previous = existing?.kind === 'current' ? existing.manifest : undefined;
    const legacy = existing?.kind === 'legacy' ? existing.legacy : undefined;
    if (legacy && legacy.version !== options.version) {
      throw new InvariantViolationError(
        `${manifestPath(dir)}: the legacy manifest names version ${legacy.version}, but its directory is ${options.version}`,
      );
    }
    const derived: string[] = [];
    const index = await readVersionIndex(dir);
    let facts: { d: number; ntotal: number; metric: Metric; factory: string };
    try {
      // Everything the user must supply is checked before anything is derived into the directory.
      facts = {
        d: index.d,
        ntotal: index.ntotal,
        metric: metricOf(index.metric, options.metric ?? previous?.metric),
        factory: factoryOf(
          index.className,
          options.factory ?? previous?.faiss_factory ?? legacy?.faiss_factory,
        ),
      };
      if (legacy)
        await checkLegacyAgainstIndex(manifestPath(dir), legacy, index, options.factory === undefined);
      await checkFactoryBuilds(facts.factory, index);
      try {
        index.checkConsistency();
      } catch (err) {
        if (err instanceof FaissError) {
          throw new InvariantViolationError(
            `${dir}/faiss.index: id_map and rev_map disagree (duplicate ids?): ${err.message}`,
          );
        }
        throw err;
      }
      const ids = index.idMap();
      const idmapFile = path.join(dir, 'idmap.parquet');
      if (!existsSync(idmapFile)) {
        await writeIdMap(idmapFile, ids);
        derived.push('idmap.parquet');
      } else {
        checkIdMapMatches(idmapFile, (await readIdMap(idmapFile)).externalId, ids);
      }
    } finally {
      index.dispose();
    }
    if (!existsSync(path.join(dir, 'catalog.duckdb'))) {
      await createCatalog(dir, { materialize: false, ...(options.duckdb ? { duckdb: options.duckdb } : {}) });
      derived.push('catalog.duckdb');
    }
    await checkCoverage(dir, options.duckdb);
    const manifest = await assembleManifest(dir, {
      version: options.version,
      factory: facts.factory,
      metric: facts.metric,
      dim: facts.d,
      vectors: facts.ntotal,
      attrs: {
        ...previous?.attrs,
        ...(legacy ? legacyAttrs(legacy, facts.factory) : {}),
        adopted: previous === undefined ? true : previous.attrs?.adopted,
        ...options.attrs,
      },
    });
    // Re-sealing (or adopting) keeps the recorded tuning: checksums change, the operating point does not.
    const kept = previous ?? legacy;
    if (kept?.tuning) manifest.tuning = kept.tuning;
    // ... and its age: created_ts orders versions for gc --keep and --older-than.
    if (kept) manifest.created_ts = kept.created_ts;
    await writeManifestAtomic(dir, manifest);
    return { version: options.version, dir, derived, manifest };
  } finally {
    lock.release();
  }
}

function checkIdMapMatches(file: string, stored: BigInt64Array, fromIndex: BigInt64Array): void {
  if (stored.length !== fromIndex.length) {
    throw new InvariantViolationError(
      `${file}: ${stored.length} rows, but faiss.index holds ${fromIndex.length}`,
    );
  }
  const differ: bigint[] = [];
  let count = 0;
  for (let i = 0; i < stored.length; i++) {
    if (stored[i] !== fromIndex[i]) {
      count++;
      if (differ.length < 5) differ.push(BigInt(i));
    }
  }
  if (count > 0) {
    throw new InvariantViolationError(
      `${file}: external_id differs from faiss.index's id_map at faiss_row ${firstIds(differ, count)}`,
    );
  }
}

async function checkCoverage(dir: string, duckdb: DuckDBLimits | undefined): Promise<void> {
  const catalog = await openCatalog(dir, duckdb ? { duckdb } : {});
  try {
    const { idmapNotInChunks, chunksNotInIdmap } = await catalog.coverage({ limit: 5 });
    if (idmapNotInChunks.count > 0) {
      throw new InvariantViolationError(
        `${dir}: ids in the index with no chunk in chunks.parquet: ${firstIds(idmapNotInChunks.first, idmapNotInChunks.count)}`,
      );
    }
    if (chunksNotInIdmap.count > 0) {
      throw new InvariantViolationError(
        `${dir}: embedded chunks missing from the index: ${firstIds(chunksNotInIdmap.first, chunksNotInIdmap.count)}`,
      );
    }
  } finally {
    catalog.close();
  }
}
