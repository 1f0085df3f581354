/**
 * One concurrent pool appender for test/pool.test.ts, run as its own process:
 * `node pool-writer.js POOL WRITER APPENDS ROWS IDS_JSON`. Writer w's append a, row r is query
 * `w<w>-a<a>`, rank r+1, so the test can check that every row arrived exactly once.
 */
import { appendPool, type PoolRow } from '../../src/core/search/pool.js';

const [pool, writer, appends, perAppend, idsJson] = process.argv.slice(2);
const ids = (JSON.parse(idsJson!) as string[]).map(BigInt);
const channels = ['faiss', 'bm25', 'splade'];
for (let a = 0; a < Number(appends); a++) {
  const rows: PoolRow[] = Array.from({ length: Number(perAppend) }, (_, r) => ({
    query_id: `w${writer}-a${a}`,
    channel: channels[(a + r) % channels.length]!,
    rank: r + 1,
    chunk_id: ids[(Number(writer) * 7 + a * 3 + r) % ids.length]!,
    score: r / 10,
    explanations: JSON.stringify({ writer: Number(writer), append: a }),
  }));
  await appendPool(pool!, rows);
}
