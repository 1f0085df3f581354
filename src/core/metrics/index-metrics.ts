/**
 * Prometheus metrics of an `openIndex` handle (prom-client): how long searches and catalog
 * hydration take, how many queries and errors there were, and which version is open. A service
 * passes its own registry (`openIndex(target, { metrics: { registry } })`) to expose them with its
 * other metrics; by default each handle has a registry of its own, read with `index.metrics()`.
 *
 * Several handles may share one registry (a service reopening CURRENT after a publish): the metric
 * objects are looked up by name before being created, so the second handle adds to the same series
 * instead of throwing prom-client's "already registered".
 */
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

import type { Catalog } from '../catalog/open.js';

export interface IndexMetricsOptions {
  /** Where the metrics are registered (default: a registry of this handle's own). */
  registry?: Registry;
}

/** The catalog reads timed as `indexctl_hydration_seconds{op}`. */
export type HydrationOp = 'chunks_by_ids' | 'embeddings_by_ids';

// Query latencies span sub-millisecond (Flat on a few thousand vectors) to seconds (a large IVF
// with a high nprobe), so the buckets go from 0.25 ms to 5 s.
const LATENCY_BUCKETS = [0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

function shared<M extends Metric>(registry: Registry, name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

function errorName(err: unknown): string {
  return err instanceof Error ? err.name : 'Error';
}

export class IndexMetrics {
  readonly registry: Registry;
  private readonly search: Histogram<'version'>;
  private readonly hydration: Histogram<'op' | 'version'>;
  private readonly queries: Counter<'version'>;
  private readonly errors: Counter<'version' | 'op' | 'error'>;
  private readonly open: Gauge<'version'>;
  private released = false;

  constructor(
    readonly version: string,
    options: IndexMetricsOptions = {},
  ) {
    const registry = options.registry ?? new Registry();
    const registers = [registry];
    this.registry = registry;
    this.search = shared(
      registry,
      'indexctl_search_seconds',
      () =>
        new Histogram({
          name: 'indexctl_search_seconds',
          help: 'Time of one IndexHandle.search call (FAISS search and hydration), seconds',
          labelNames: ['version'],
          buckets: LATENCY_BUCKETS,
          registers,
        }),
    );
    this.hydration = shared(
      registry,
      'indexctl_hydration_seconds',
      () =>
        new Histogram({
          name: 'indexctl_hydration_seconds',
          help: 'Time of one catalog lookup by ids: chunk rows (chunks_by_ids) or stored embeddings (embeddings_by_ids), seconds',
          labelNames: ['op', 'version'],
          buckets: LATENCY_BUCKETS,
          registers,
        }),
    );
    this.queries = shared(
      registry,
      'indexctl_queries_total',
      () =>
        new Counter({
          name: 'indexctl_queries_total',
          help: 'Query vectors searched (a search call of nq vectors counts nq)',
          labelNames: ['version'],
          registers,
        }),
    );
    this.errors = shared(
      registry,
      'indexctl_errors_total',
      () =>
        new Counter({
          name: 'indexctl_errors_total',
          help: 'Search or hydration calls that threw, by operation and error class',
          labelNames: ['version', 'op', 'error'],
          registers,
        }),
    );
    this.open = shared(
      registry,
      'indexctl_open_version',
      () =>
        new Gauge({
          name: 'indexctl_open_version',
          help: 'Open index handles by version (1 while a service has that version open)',
          labelNames: ['version'],
          registers,
        }),
    );
    this.open.inc({ version });
  }

  /** Times one search call; `nq` (its query vectors) is counted when it succeeds, a throw as an error. */
  async timeSearch<T>(work: () => Promise<T>, nq: () => number): Promise<T> {
    const end = this.search.startTimer({ version: this.version });
    try {
      const result = await work();
      this.queries.inc({ version: this.version }, nq());
      return result;
    } catch (err) {
      this.errors.inc({ version: this.version, op: 'search', error: errorName(err) });
      throw err;
    } finally {
      end();
    }
  }

  async timeHydration<T>(op: HydrationOp, work: () => Promise<T>): Promise<T> {
    const end = this.hydration.startTimer({ op, version: this.version });
    try {
      return await work();
    } catch (err) {
      this.errors.inc({ version: this.version, op, error: errorName(err) });
      throw err;
    } finally {
      end();
    }
  }

  /**
   * Times the catalog's lookups by ids in place, so every caller is measured: the handle's own
   * search and a service calling `handle.catalog.embeddingsByIds` directly.
   */
  instrument(catalog: Catalog): void {
    const hydrate = catalog.hydrate.bind(catalog);
    const embeddings = catalog.embeddingsByIds.bind(catalog);
    catalog.hydrate = (ids, options) => this.timeHydration('chunks_by_ids', () => hydrate(ids, options));
    catalog.embeddingsByIds = (ids) => this.timeHydration('embeddings_by_ids', () => embeddings(ids));
  }

  /** The handle closed: its version no longer counts as open (the series goes at zero). */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.open.dec({ version: this.version });
    const left = (await this.open.get()).values.find((v) => v.labels.version === this.version);
    if (left !== undefined && left.value <= 0) this.open.remove({ version: this.version });
  }

  /** The registry's metrics in the Prometheus text exposition format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
