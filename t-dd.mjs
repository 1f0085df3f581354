import { DuckDBInstance } from '@duckdb/node-api';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const inst = await DuckDBInstance.create(':memory:', { threads: '2' });
const c = await inst.connect();
const m = async (name, sql) => { const c0 = process.cpuUsage(); const t = performance.now(); const r = await c.runAndReadAll(sql); const cu = process.cpuUsage(c0); console.log(name.padEnd(20), ((performance.now()-t)/1000).toFixed(3), 'cpu', ((cu.user+cu.system)/1e6).toFixed(3), r.getRowsJS()[0]); };
for (let i = 0; i < 2; i++) {
await m('len', `SELECT sum(len(embedding)) FROM read_parquet('${C}')`);
await m('first', `SELECT sum(embedding[1]) FROM read_parquet('${C}')`);
await m('unnest-sum', `SELECT sum(list_sum(embedding)) FROM read_parquet('${C}')`);
await m('meta', `SELECT count(*), sum(len(uri)) FROM read_parquet('${C}')`);
}
const r = await c.runAndReadAll(`SELECT * FROM parquet_metadata('${C}') LIMIT 3`); console.log(r.getRowObjectsJS().map(o => [o.path_in_schema, o.compression, o.encodings, o.total_compressed_size, o.total_uncompressed_size]));
