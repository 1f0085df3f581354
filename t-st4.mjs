import { DuckDBInstance } from '@duckdb/node-api';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c1 = await inst.connect();
await c1.run(`SET streaming_buffer_size = '32MB'`);
const q = `SELECT id, embedding FROM read_parquet('${C}', file_row_number=true) WHERE file_row_number < 60000`;
for (let i = 0; i < 4; i++) {
  let t = performance.now();
  const r = await c1.stream(q);
  const started = performance.now() - t;
  if (i % 2) await new Promise((res) => setTimeout(res, 300));
  t = performance.now();
  let n = 0; for (;;) { const ch = await r.fetchChunk(); if (!ch || ch.rowCount === 0) break; n += ch.rowCount; }
  console.log(i % 2 ? 'after sleep' : 'immediate', 'start', started.toFixed(1), 'ms drain', (performance.now() - t).toFixed(1), 'ms', n);
}
