import { DuckDBInstance } from '@duckdb/node-api';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const drain = async (c, sql) => { const r = await c.stream(sql); let n = 0; for (;;) { const ch = await r.fetchChunk(); if (!ch || ch.rowCount === 0) break; n += ch.rowCount; } return n; };
const c1 = await inst.connect(), c2 = await inst.connect();
for (const c of [c1, c2]) await c.run(`SET streaming_buffer_size = '32MB'`);
const res = {};
const m = async (name, fn) => { const t = performance.now(); await fn(); (res[name] ??= []).push((performance.now()-t)/1000); };
const half = (k) => `SELECT id, embedding FROM read_parquet('${C}', file_row_number=true) WHERE file_row_number ${k ? '>=' : '<'} 150000`;
for (let i = 0; i < 9; i++) {
await m('one stream', () => drain(c1, `SELECT id, embedding FROM read_parquet('${C}')`));
await m('two halves', () => Promise.all([drain(c1, half(0)), drain(c2, half(1))]));
await m('agg', () => c1.runAndReadAll(`SELECT sum(len(embedding)) FROM read_parquet('${C}')`));
}
for (const [k, v] of Object.entries(res)) { v.sort(); console.log(k, v.map(x => x.toFixed(2)).join(' '), 'median', v[4].toFixed(3)); }
