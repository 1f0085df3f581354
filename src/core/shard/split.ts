/**
 * The deterministic split of an input into N shards: row group g belongs to shard g mod N, with the
 * row groups of a dataset numbered across its files in dataset order (file 1's, then file 2's, ...).
 * Any job computes its share from the files' footers alone, and row groups are where a Parquet reader can
 * start, so no two jobs need to agree on anything but I, N and the input.
 */
import { UsageError } from '../errors.js';

export interface ShardSpec {
  /** 0-based (Kubernetes' JOB_COMPLETION_INDEX, Slurm's SLURM_ARRAY_TASK_ID with --array=0-(N-1)). */
  index: number;
  count: number;
}

/** At most this many shards: far beyond any machine count, small enough to list in shard.json. */
export const MAX_SHARDS = 4096;

export function parseShard(text: string, flag = '--shard'): ShardSpec {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || count > MAX_SHARDS || index >= count) {
    throw new UsageError(
      `${flag} ${JSON.stringify(text)}: expected I/N with 0 <= I < N <= ${MAX_SHARDS} (I is 0-based, e.g. 0/4 .. 3/4)`,
    );
  }
  return { index, count };
}

export interface ShardShare {
  /** Row groups of the input in this shard (dataset numbering). */
  rowGroups: number[];
  /** [start, end) dataset rows of those row groups, ascending. */
  ranges: [number, number][];
  rows: number;
}

export function shardShare(rowGroupRows: readonly number[], shard: ShardSpec): ShardShare {
  const rowGroups: number[] = [];
  const ranges: [number, number][] = [];
  let start = 0;
  let rows = 0;
  rowGroupRows.forEach((n, g) => {
    if (g % shard.count === shard.index && n > 0) {
      rowGroups.push(g);
      ranges.push([start, start + n]);
      rows += n;
    }
    start += n;
  });
  return { rowGroups, ranges, rows };
}
