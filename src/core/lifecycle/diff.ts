/**
 * `diff A B`: how version B differs from A — factory, metric, dimension, counts, per-file checksums,
 * tuning — and which chunk ids B adds and removes. The ids come from the two idmap.parquet files
 * (the ids the indexes can return), compared by one DuckDB query over both; paths are bound as
 * parameters. A reader: no lock. A version with a bad manifest is IndexCorruptionError (exit 4).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { IndexCorruptionError, UsageError } from '../errors.js';
import { checkVersionName, requireRoot, requireVersionDir, VERSION_FILES } from '../layout.js';
import { readManifest, type Manifest, type ManifestTuning } from '../manifest/schema.js';
import { tuningSummary } from './status.js';
import { treeBytes } from './version-info.js';

export interface DiffSide {
  version: string;
  created: string;
  factory: string;
  metric: string;
  dim: number;
  vectors: number;
  bytes: number;
  tuning: ManifestTuning | null;
}

export interface FieldDiff {
  field: 'factory' | 'metric' | 'dim' | 'vectors' | 'tuning';
  a: string;
  b: string;
  same: boolean;
}

export interface FileDiff {
  file: string;
  a: { bytes: number; checksum: string } | null;
  b: { bytes: number; checksum: string } | null;
  same: boolean;
}

export interface IdDiff {
  /** Distinct ids in A's and B's idmap. */
  a: number;
  b: number;
  common: number;
  /** In B, not in A. */
  added: number;
  /** In A, not in B. */
  removed: number;
  /** The smallest added / removed ids, as decimal strings (ids are int64). */
  addedIds: string[];
  removedIds: string[];
}

export interface DiffReport {
  a: DiffSide;
  b: DiffSide;
  fields: FieldDiff[];
  files: FileDiff[];
  ids: IdDiff;
  /** The chunks, idmap and index checksums agree: the versions serve the same data. */
  sameData: boolean;
}

export interface DiffOptions {
  root: string;
  a: string;
  b: string;
  /** Ids listed each way (default 10). */
  limit?: number;
}

function side(version: string, m: Manifest, bytes: number): DiffSide {
  return {
    version,
    created: new Date(m.created_ts * 1000).toISOString(),
    factory: m.faiss_factory,
    metric: m.metric,
    dim: m.vec_dim,
    vectors: m.vectors_count,
    bytes,
    tuning: m.tuning ?? null,
  };
}

function field(name: FieldDiff['field'], a: unknown, b: unknown): FieldDiff {
  const text = (v: unknown): string => (v === null || v === undefined ? '-' : String(v));
  return { field: name, a: text(a), b: text(b), same: text(a) === text(b) };
}

/** A version whose manifest cannot be used cannot be compared: exit 4 naming the version. */
async function manifestOf(version: string, dir: string): Promise<Manifest> {
  try {
    return await readManifest(dir);
  } catch (err) {
    if (!(err instanceof IndexCorruptionError)) throw err;
    throw new IndexCorruptionError(`version ${version} is bad, cannot diff it: ${err.message}`, {
      cause: err,
    });
  }
}

function idmapOf(dir: string): string {
  const file = path.join(dir, VERSION_FILES.idmap);
  if (!existsSync(file)) throw new IndexCorruptionError(`${file}: missing`);
  return file;
}

async function diffIds(fileA: string, fileB: string, limit: number): Promise<IdDiff> {
  // Loaded only once the arguments are known good: DuckDB is the slow part of starting up.
  const { firstLine, globLiteral, openDuckDB } = await import('../parquet/duckdb-source.js');
  const instance = await openDuckDB();
  try {
    const c = await instance.connect();
    try {
      const params = [globLiteral(fileA), globLiteral(fileB)];
      const ids = `a AS (SELECT DISTINCT external_id AS id FROM read_parquet($1)),
        b AS (SELECT DISTINCT external_id AS id FROM read_parquet($2))`;
      const counts = await c.runAndReadAll(
        `WITH ${ids}
         SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM b),
                (SELECT count(*) FROM a SEMI JOIN b USING (id))`,
        params,
      );
      const [na, nb, common] = counts.getRows()[0]!.map(Number) as [number, number, number];
      // limit is a validated integer: DuckDB does not bind LIMIT parameters in every position.
      const sample = async (from: 'a' | 'b', other: 'a' | 'b'): Promise<string[]> =>
        (
          await c.runAndReadAll(
            `WITH ${ids} SELECT id FROM ${from} ANTI JOIN ${other} USING (id) ORDER BY id LIMIT ${limit}`,
            params,
          )
        )
          .getRows()
          .map((r) => String(r[0]));
      return {
        a: na,
        b: nb,
        common,
        added: nb - common,
        removed: na - common,
        addedIds: limit > 0 ? await sample('b', 'a') : [],
        removedIds: limit > 0 ? await sample('a', 'b') : [],
      };
    } catch (err) {
      throw new IndexCorruptionError(`cannot compare ${fileA} and ${fileB}: ${firstLine(err)}`, {
        cause: err,
      });
    } finally {
      c.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

export async function diff(o: DiffOptions): Promise<DiffReport> {
  checkVersionName(o.a);
  checkVersionName(o.b);
  const limit = o.limit ?? 10;
  if (!Number.isSafeInteger(limit) || limit < 0) throw new UsageError(`--limit must be >= 0, got ${limit}`);
  requireRoot(o.root);
  const dirA = requireVersionDir(o.root, o.a);
  const dirB = requireVersionDir(o.root, o.b);
  const [ma, mb] = [await manifestOf(o.a, dirA), await manifestOf(o.b, dirB)];
  const a = side(o.a, ma, await treeBytes(dirA));
  const b = side(o.b, mb, await treeBytes(dirB));
  const fields = [
    field('factory', a.factory, b.factory),
    field('metric', a.metric, b.metric),
    field('dim', a.dim, b.dim),
    field('vectors', a.vectors, b.vectors),
    field('tuning', tuningSummary(a.tuning), tuningSummary(b.tuning)),
  ];
  const names = [...new Set([...Object.keys(ma.files), ...Object.keys(mb.files)])].sort();
  const files = names.map((file): FileDiff => {
    const fa = ma.files[file];
    const fb = mb.files[file];
    return {
      file,
      a: fa ? { bytes: fa.bytes, checksum: fa.checksum } : null,
      b: fb ? { bytes: fb.bytes, checksum: fb.checksum } : null,
      same: fa !== undefined && fb !== undefined && fa.checksum === fb.checksum,
    };
  });
  const ids = await diffIds(idmapOf(dirA), idmapOf(dirB), limit);
  const sameData =
    ma.chunks_checksum === mb.chunks_checksum &&
    ma.idmap_checksum === mb.idmap_checksum &&
    ma.index_checksum === mb.index_checksum;
  return { a, b, fields, files, ids, sameData };
}
