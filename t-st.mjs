import { DuckDBInstance } from '@duckdb/node-api';
import { chunkViews } from './dist/src/core/parquet/duckdb-chunk.js';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
await c.run(`SET streaming_buffer_size = '32MB'`);
const m = async (name, sql, views) => { const c0 = process.cpuUsage(); const t = performance.now(); const r = await c.stream(sql); let n = 0, chunks = 0; for (;;) { const ch = await r.fetchChunk(); if (!ch || ch.rowCount === 0) break; n += ch.rowCount; chunks++; if (views) chunkViews(ch); } const cu = process.cpuUsage(c0); console.log(name.padEnd(20), ((performance.now()-t)/1000).toFixed(3), 'cpu', ((cu.user+cu.system)/1e6).toFixed(3), n, chunks); };
for (let i = 0; i < 2; i++) {
await m('list fetch', `SELECT id, embedding FROM read_parquet('${C}')`, false);
await m('list views', `SELECT id, embedding FROM read_parquet('${C}')`, true);
await m('array fetch', `SELECT id, embedding::FLOAT[128] FROM read_parquet('${C}')`, false);
await m('ids only', `SELECT id FROM read_parquet('${C}')`, false);
}
