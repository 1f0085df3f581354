/**
 * Where a build's time goes: BuildReport.seconds, shown by `build --verbose` and in `--json`. Each
 * stage's own seconds; stages that run beside others (the chunks copy, the hashing, FAISS's add on
 * its worker, the catalog started during the add) overlap, so they add up to more than `total`.
 * docs/build.md#stages lists them.
 */

/** The stages in the order a build meets them (a table prints them in this order). */
export const BUILD_STAGES = [
  'open',
  'validate',
  'factory_trial',
  'base_hashes',
  'diff',
  'read_base_index',
  'drift',
  'sample',
  'train',
  'decode',
  'hash',
  'faiss_add',
  'add',
  'apply_delta',
  'catalog_meta',
  'write_index',
  'write_idmap',
  'copy_chunks',
  'copy_chunks_wait',
  'catalog',
  'checksum',
  'checksum_wait',
  'manifest',
  'fsync',
  'seal',
  'total',
] as const;

export type BuildStage = (typeof BUILD_STAGES)[number];

/** Accumulates seconds per stage; a stage timed twice (two passes) adds up. */
export class StageClock {
  readonly seconds: Partial<Record<BuildStage, number>>;

  constructor(initial: Partial<Record<BuildStage, number>> = {}) {
    this.seconds = { ...initial };
  }

  add(stage: BuildStage, seconds: number): void {
    this.seconds[stage] = (this.seconds[stage] ?? 0) + seconds;
  }

  /** Adds the time since `start` (a performance.now() reading) to `stage`. */
  since(stage: BuildStage, start: number): void {
    this.add(stage, (performance.now() - start) / 1000);
  }

  async time<T>(stage: BuildStage, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.since(stage, start);
    }
  }

  timeSync<T>(stage: BuildStage, fn: () => T): T {
    const start = performance.now();
    try {
      return fn();
    } finally {
      this.since(stage, start);
    }
  }
}

/** The stages of a report in BUILD_STAGES order, for a table: [stage, seconds]. */
export function orderedStages(seconds: Readonly<Record<string, number>>): [string, number][] {
  const known = BUILD_STAGES.filter((s) => seconds[s] !== undefined).map((s): [string, number] => [
    s,
    seconds[s]!,
  ]);
  const other = Object.entries(seconds).filter(([k]) => !(BUILD_STAGES as readonly string[]).includes(k));
  return [...known, ...other];
}
