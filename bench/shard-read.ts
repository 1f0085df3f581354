/**
 * What a shard build reads: shard I/N of a chunks file passes only its own row groups to DuckDB
 * (a `file_row_number` range per row group, which DuckDB prunes from the footer), where it used to
 * decode the whole file and drop the other rows. Both passes are timed on the same reader, page
 * cache warm, interleaved, medians: the whole-file pass is the old shard read (the peer).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/shard-read.js [--rows 1000000] [--shards 4] [--runs 3] [--tiny]
 *
 * The chunks file is bench/ingest.ts's `rows` x 384 in $BENCH_DIR (10 row groups); `--tiny` reads
 * 2000 rows once, for test/bench-smoke.test.ts.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';

import { openChunks, type BatchOptions } from '../src/core/parquet/chunks-reader.js';
import { shardShare } from '../src/core/shard/split.js';
import { chunksFile, D, warmPageCache } from './data.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    shards: { type: 'string', default: '4' },
    runs: { type: 'string', default: '3' },
    dir: { type: 'string', default: process.env.BENCH_DIR ?? '/tmp/indexctl-bench' },
    tiny: { type: 'boolean', default: false },
  },
});
const rows = values.tiny ? 2000 : Number(values.rows);
const runs = values.tiny ? 1 : Number(values.runs);
const count = Number(values.shards);

const file = chunksFile(path.resolve(values.dir), rows);
warmPageCache(file);
const reader = await openChunks(file);
try {
  const groups = await reader.rowGroupRows();
  const share = shardShare(groups, { index: 0, count });
  const pass = async (options: BatchOptions): Promise<{ seconds: number; rows: number }> => {
    const t = performance.now();
    let n = 0;
    for await (const batch of reader.batches(options)) n += batch.rows;
    return { seconds: (performance.now() - t) / 1000, rows: n };
  };
  const times: Record<'whole' | 'share', number[]> = { whole: [], share: [] };
  let shareRows = 0;
  for (let r = 0; r < runs; r++) {
    times.whole.push((await pass({})).seconds);
    const s = await pass({ ranges: share.ranges });
    times.share.push(s.seconds);
    shareRows = s.rows;
  }
  if (shareRows !== share.rows) throw new Error(`shard pass read ${shareRows} rows, expected ${share.rows}`);
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const whole = median(times.whole);
  const mine = median(times.share);
  console.log(
    `${rows} x ${D}, ${groups.length} row groups; shard 0/${count} holds ${share.rowGroups.length} (${share.rows} rows)\n`,
  );
  console.log('| pass | rows | seconds | fraction of rows | fraction of time |');
  console.log('|---|---|---|---|---|');
  console.log(`| whole file (the old shard read) | ${rows} | ${whole.toFixed(3)} | 1.00 | 1.00 |`);
  console.log(
    `| shard 0/${count}, its row groups only | ${share.rows} | ${mine.toFixed(3)} | ${(share.rows / rows).toFixed(2)} | ${(mine / whole).toFixed(2)} |`,
  );
} finally {
  reader.close();
}
