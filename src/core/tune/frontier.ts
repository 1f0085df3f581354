/**
 * The recall/speed trade-off over measured points: the Pareto frontier (no other point is at least
 * as good in both recall and QPS and better in one), the chosen point (the fastest by QPS that
 * meets the target recall), and the two rules that keep a sweep short:
 *
 * - pruning, as FAISS's `OperatingPoints`/`ParameterSpace::explore` does, assuming recall and time
 *   both grow with every knob: a setting's time is at least that of any measured setting below it
 *   in every knob, and its recall at most that of any measured setting above it (else 1). When a
 *   measured point already has at least that recall in at most that time, the setting cannot join
 *   the frontier and is skipped;
 * - the time budget: a setting whose estimated cost (the measured setting below it, scaled by how
 *   much larger its knobs are) would overrun `--max-seconds` is cut and listed.
 */
import { dominatedBy } from './param-grid.js';

export interface SweepPoint {
  positions: number[];
  values: Record<string, number>;
  recall: number;
  qps: number;
  latencyP50: number;
  /** Seconds its measurement took. */
  cost: number;
}

/** Indexes of the frontier points among `points`. */
export function paretoFrontier(points: readonly Pick<SweepPoint, 'recall' | 'qps'>[]): Set<number> {
  const out = new Set<number>();
  points.forEach((p, i) => {
    const dominated = points.some(
      (o, j) => j !== i && o.recall >= p.recall && o.qps >= p.qps && (o.recall > p.recall || o.qps > p.qps),
    );
    if (!dominated) out.add(i);
  });
  return out;
}

/** The fastest point meeting the target, ties broken by lower p50; undefined when none does. */
export function choosePoint<T extends Pick<SweepPoint, 'recall' | 'qps' | 'latencyP50'>>(
  points: readonly T[],
  targetRecall: number,
): T | undefined {
  let best: T | undefined;
  for (const p of points) {
    if (p.recall < targetRecall) continue;
    if (!best || p.qps > best.qps || (p.qps === best.qps && p.latencyP50 < best.latencyP50)) best = p;
  }
  return best;
}

/** The highest-recall point, ties broken by QPS: what a sweep that misses the target reports. */
export function bestRecall<T extends Pick<SweepPoint, 'recall' | 'qps'>>(
  points: readonly T[],
): T | undefined {
  let best: T | undefined;
  for (const p of points) {
    if (!best || p.recall > best.recall || (p.recall === best.recall && p.qps > best.qps)) best = p;
  }
  return best;
}

/** Whether the setting at `positions` cannot join the frontier of `measured` (see the module comment). */
export function canPrune(positions: readonly number[], measured: readonly SweepPoint[]): boolean {
  let minTimePerQuery = 0;
  let maxRecall = 1;
  for (const m of measured) {
    if (dominatedBy(m.positions, positions)) minTimePerQuery = Math.max(minTimePerQuery, 1 / m.qps);
    if (dominatedBy(positions, m.positions)) maxRecall = Math.min(maxRecall, m.recall);
  }
  return measured.some((m) => m.recall >= maxRecall && 1 / m.qps <= minTimePerQuery);
}

/**
 * Estimated seconds to measure the setting at `positions`/`values`: each measured setting below it,
 * scaled by how much larger the knobs are, and the smallest of those estimates (the nearest setting
 * predicts best; the first one measured also paid the warm-up, page faults of an mmapped index).
 */
export function estimateCost(
  values: Record<string, number>,
  positions: readonly number[],
  measured: readonly SweepPoint[],
): number {
  let best: number | undefined;
  for (const m of measured) {
    if (!dominatedBy(m.positions, positions)) continue;
    let scale = 1;
    for (const [name, value] of Object.entries(values)) {
      const from = m.values[name];
      if (from !== undefined && from > 0) scale *= value / from;
    }
    best = Math.min(best ?? Infinity, m.cost * scale);
  }
  return best ?? Math.max(0, ...measured.map((m) => m.cost));
}
