import { DuckDBInstance } from '@duckdb/node-api';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const drain = async (c, sql) => { const r = await c.stream(sql); let n = 0; for (;;) { const ch = await r.fetchChunk(); if (!ch || ch.rowCount === 0) break; n += ch.rowCount; } return n; };
const c1 = await inst.connect(), c2 = await inst.connect();
for (const c of [c1, c2]) await c.run(`SET streaming_buffer_size = '32MB'`);
const m = async (name, fn) => { const c0 = process.cpuUsage(); const t = performance.now(); const n = await fn(); const cu = process.cpuUsage(c0); console.log(name.padEnd(20), ((performance.now()-t)/1000).toFixed(3), 'cpu', ((cu.user+cu.system)/1e6).toFixed(3), n); };
const half = (k) => `SELECT id, embedding FROM read_parquet('${C}', file_row_number=true) WHERE file_row_number ${k ? '>=' : '<'} 150000`;
for (let i = 0; i < 3; i++) {
await m('one stream', () => drain(c1, `SELECT id, embedding FROM read_parquet('${C}')`));
await m('two halves', () => Promise.all([drain(c1, half(0)), drain(c2, half(1))]));
await m('one half', () => drain(c1, half(0)));
}
