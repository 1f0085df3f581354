/**
 * `openIndex`: what a service imports to search a published version. It loads faiss.index
 * read-only (IVF lists mmapped), applies the manifest's tuning through ParameterSpace, and opens
 * the catalog read-only; `search` returns hits hydrated from the catalog.
 *
 * Scores are distances exactly as FAISS returns them: for `ip` and `cosine` (inner product of unit
 * vectors) higher is better; for `l2` they are squared L2 distances, lower is better. Queries are
 * normalized (in a copy) for `cosine`, as the stored vectors were at build time.
 *
 * Calls on one handle are serialized: the binding refuses a second call on an index while one is
 * running, and a service's concurrent requests should queue rather than fail.
 */
import type { DuckDBLimits } from '../catalog/duckdb-limits.js';
import { BadInputError, UsageError } from '../errors.js';
import { FaissIndex } from '../faiss/index.js';
import { openCatalog, type Catalog } from '../catalog/open.js';
import type { ChunkRow } from '../catalog/hydrate.js';
import { readManifest, type Manifest } from '../manifest/schema.js';
import { IndexMetrics, type IndexMetricsOptions } from '../metrics/index-metrics.js';
import { normalizeL2 } from '../parquet/cosine.js';
import {
  isFollowTarget,
  openFollowing,
  type FollowOptions,
  type FollowTarget,
  type FollowingIndex,
} from './follow.js';
import { loadVersionIndex } from './load-index.js';
import { checkFinite } from './query-file.js';
import { resolveTarget, type IndexTarget } from './target.js';
import { applyTuning } from './tuning-params.js';

export interface OpenIndexOptions {
  /**
   * XXH64 faiss.index and compare with the manifest before FAISS reads it (default false: a
   * crafted file can crash `read_index`, so `indexctl verify`, which checksums and test-loads in a
   * child process, is the gate before publish; the file's size is always checked).
   */
  verifyChecksum?: boolean;
  /** Apply the manifest's tuning (default true). */
  applyTuning?: boolean;
  /** ParameterSpace settings applied after the tuning, e.g. "nprobe=32" (experiments). */
  parameters?: string;
  /** Prometheus metrics (src/core/metrics/index-metrics.ts): `{ registry }` to use the caller's. */
  metrics?: IndexMetricsOptions;
  /** DuckDB memory and thread limits of the handle's catalog (duckdb-limits.ts; default conservative). */
  duckdb?: DuckDBLimits;
}

export interface SearchHit {
  /** External chunk id. */
  id: bigint;
  uri: string | null;
  lang: string | null;
  start_line: number | null;
  end_line: number | null;
  /** FAISS's distance: higher is better for ip/cosine, lower for l2 (squared). */
  score: number;
  /** The chunk's FAISS row, from the catalog's idmap; null if the catalog lacks the chunk. */
  faiss_row: bigint | null;
}

/** What `health()` reports: enough for a service's readiness probe, never a thrown error. */
export interface IndexHealth {
  /** The index is loaded and the catalog answered. */
  ok: boolean;
  version: string;
  /** The FAISS index is loaded (the handle is open) and holds `vectors` vectors. */
  indexLoaded: boolean;
  /** ntotal of the loaded index (the manifest's vectors_count once closed). */
  vectors: number;
  dim: number;
  catalog: {
    ok: boolean;
    /** Milliseconds of the `SELECT version()` round trip (from its start, not the queue wait). */
    latencyMs: number | null;
    duckdbVersion: string | null;
    /** Why the ping failed: closed handle, a damaged catalog (IndexCorruptionError's message), ... */
    error: string | null;
  };
}

export class IndexHandle {
  /** The search parameters in effect (`getParameters()` after tuning), e.g. `{ nprobe: 16, max_codes: 0 }`. */
  readonly parameters: Readonly<Record<string, number>>;
  private closed = false;
  private queue: Promise<unknown> = Promise.resolve();

  /** Use openIndex(). */
  constructor(
    readonly version: string,
    /** The version directory, symlinks resolved. */
    readonly dir: string,
    readonly manifest: Manifest,
    /** The FAISS index (IndexIDMap2), tuning applied. Do not dispose it: close() does. */
    readonly index: FaissIndex,
    readonly catalog: Catalog,
    /** The ParameterSpace string applied at open ('' for none). */
    readonly appliedParameters: string,
    private readonly meter: IndexMetrics = new IndexMetrics(version),
  ) {
    this.parameters = Object.freeze(index.getParameters());
  }

  get metric(): Manifest['metric'] {
    return this.manifest.metric;
  }
  get dim(): number {
    return this.manifest.vec_dim;
  }
  get ntotal(): number {
    return this.manifest.vectors_count;
  }

  /**
   * k nearest chunks for each query (`vectors`: nq x dim floats), best first. A query gets fewer
   * than k hits only when the index has fewer (or an approximate index finds fewer) vectors.
   */
  search(vectors: Float32Array, k: number): Promise<SearchHit[][]> {
    const run = this.queue.then(() =>
      // nq is read after searchNow validated `vectors` (it may be anything a caller passed).
      this.meter.timeSearch(
        () => this.searchNow(vectors, k),
        () => vectors.length / this.dim,
      ),
    );
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * This handle's metrics in the Prometheus text format (with a registry passed to openIndex, all
   * of that registry's metrics): search and hydration latency, queries, errors, the open version.
   */
  metrics(): Promise<string> {
    return this.meter.text();
  }

  /**
   * Is this handle still able to answer? Pings the catalog (a `SELECT version()` through the same
   * read-only connection searches hydrate from, queued behind searches in flight so the two never
   * share the connection at once) and reports the index, version and vector count. A failure is
   * reported in the result, not thrown: a readiness probe wants `ok: false` and the reason.
   */
  health(): Promise<IndexHealth> {
    const run = this.queue.then(() => this.healthNow());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async healthNow(): Promise<IndexHealth> {
    const indexLoaded = !this.closed;
    const catalog: IndexHealth['catalog'] = { ok: false, latencyMs: null, duckdbVersion: null, error: null };
    if (this.closed) catalog.error = `${this.dir}: the index handle is closed`;
    else {
      const start = performance.now();
      try {
        catalog.duckdbVersion = (await this.catalog.ping()).duckdbVersion;
        catalog.ok = true;
      } catch (err) {
        catalog.error = err instanceof Error ? err.message : String(err);
      }
      catalog.latencyMs = Math.round((performance.now() - start) * 1000) / 1000;
    }
    return {
      ok: indexLoaded && catalog.ok,
      version: this.version,
      indexLoaded,
      vectors: indexLoaded ? this.index.ntotal : this.ntotal,
      dim: this.dim,
      catalog,
    };
  }

  /** Releases the index and the catalog; safe to call twice. Waits for a search in flight. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    this.index.dispose();
    this.catalog.close();
    await this.meter.release();
  }

  private async searchNow(vectors: Float32Array, k: number): Promise<SearchHit[][]> {
    if (this.closed) throw new UsageError(`${this.dir}: the index handle is closed`);
    if (!Number.isSafeInteger(k) || k < 1)
      throw new UsageError(`k must be a positive integer, got ${String(k)}`);
    const d = this.dim;
    if (!(vectors instanceof Float32Array) || vectors.length === 0 || vectors.length % d !== 0) {
      const got = vectors instanceof Float32Array ? `${vectors.length} floats` : typeof vectors;
      throw new BadInputError(`queries must be a Float32Array of nq x ${d} floats, got ${got}`);
    }
    const nq = vectors.length / d;
    checkFinite(vectors, d, 'queries');
    const queries = this.metric === 'cosine' ? normalized(vectors, d) : vectors;
    const { distances, labels } = await this.index.searchAsync(queries, k);
    const found = labels.filter((id) => id >= 0n);
    const rows = new Map<bigint, ChunkRow>();
    if (found.length > 0) {
      for (const row of (await this.catalog.hydrate(found)).rows) rows.set(row.id, row);
    }
    const out: SearchHit[][] = [];
    for (let q = 0; q < nq; q++) {
      const hits: SearchHit[] = [];
      for (let j = q * k; j < (q + 1) * k; j++) {
        const id = labels[j]!;
        if (id < 0n) continue;
        const row = rows.get(id);
        hits.push({
          id,
          uri: row?.uri ?? null,
          lang: row?.lang ?? null,
          start_line: row?.start_line ?? null,
          end_line: row?.end_line ?? null,
          score: distances[j]!,
          faiss_row: row?.faiss_row ?? null,
        });
      }
      out.push(hits);
    }
    return out;
  }
}

function normalized(vectors: Float32Array, d: number): Float32Array {
  const copy = vectors.slice();
  const rows = BigInt64Array.from({ length: copy.length / d }, (_, i) => BigInt(i));
  normalizeL2(copy, d, rows, 'queries (row numbers shown as ids)');
  return copy;
}

/**
 * Opens a version for searching: `{ root }` (CURRENT, resolved once), `{ root, version }`, or a path
 * to a version directory or a root; `{ root, follow: true }` opens CURRENT and follows its flips
 * (a FollowingIndex, src/core/search/follow.ts). Throws NotFoundError, IndexCorruptionError (manifest, size or
 * checksum, unreadable index) or InvariantViolationError (index and manifest disagree, tuning does
 * not apply).
 */
export function openIndex(target: FollowTarget, options?: FollowOptions): Promise<FollowingIndex>;
export function openIndex(target: IndexTarget, options?: OpenIndexOptions): Promise<IndexHandle>;
export async function openIndex(
  target: IndexTarget | FollowTarget,
  options: OpenIndexOptions = {},
): Promise<IndexHandle | FollowingIndex> {
  // `{ root, follow: true }`: follow.ts wraps handles this function opens (docs/serving.md).
  if (isFollowTarget(target)) return openFollowing(target, options, openIndex);
  const resolved = resolveTarget(target);
  const { dir } = resolved;
  const manifest = await readManifest(dir);
  const version = resolved.root !== undefined ? resolved.version : manifest.version;
  const index = await loadVersionIndex(dir, manifest, options);
  try {
    let applied = options.applyTuning === false ? '' : applyTuning(index, manifest.tuning, dir);
    if (options.parameters !== undefined && options.parameters !== '') {
      index.setParameters(options.parameters);
      applied = applied === '' ? options.parameters : `${applied},${options.parameters}`;
    }
    const catalog = await openCatalog(dir, options.duckdb ? { duckdb: options.duckdb } : {});
    const metrics = new IndexMetrics(version, options.metrics);
    metrics.instrument(catalog);
    return new IndexHandle(version, dir, manifest, index, catalog, applied, metrics);
  } catch (err) {
    index.dispose();
    throw err;
  }
}
