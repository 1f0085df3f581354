import { DuckDBInstance } from '@duckdb/node-api';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const res = {};
for (let i = 0; i < 5; i++) {
  for (const [name, sql] of [
    ['full', `CREATE TABLE t AS SELECT id::BIGINT AS id, uri::VARCHAR AS uri, lang::VARCHAR AS lang, start_line::BIGINT AS start_line, end_line::BIGINT AS end_line, (file_row_number)::BIGINT AS faiss_row FROM read_parquet('${C}', file_row_number=true) ORDER BY id; CREATE INDEX ti ON t(id)`],
    ['no index', `CREATE TABLE t AS SELECT id::BIGINT AS id, uri::VARCHAR AS uri, lang::VARCHAR AS lang, start_line::BIGINT AS start_line, end_line::BIGINT AS end_line, (file_row_number)::BIGINT AS faiss_row FROM read_parquet('${C}', file_row_number=true) ORDER BY id`],
    ['no sort', `CREATE TABLE t AS SELECT id::BIGINT AS id, uri::VARCHAR AS uri, lang::VARCHAR AS lang, start_line::BIGINT AS start_line, end_line::BIGINT AS end_line, (file_row_number)::BIGINT AS faiss_row FROM read_parquet('${C}', file_row_number=true)`],
    ['no sort + index', `CREATE TABLE t AS SELECT id::BIGINT AS id, uri::VARCHAR AS uri, lang::VARCHAR AS lang, start_line::BIGINT AS start_line, end_line::BIGINT AS end_line, (file_row_number)::BIGINT AS faiss_row FROM read_parquet('${C}', file_row_number=true); CREATE INDEX ti ON t(id)`],
  ]) {
    const inst = await DuckDBInstance.create('/tmp/cm.duckdb', { threads: '2' });
    const c = await inst.connect();
    const c0 = process.cpuUsage(); const t = performance.now();
    await c.run(sql);
    await c.run('CHECKPOINT');
    const cu = process.cpuUsage(c0);
    (res[name] ??= []).push([(performance.now() - t) / 1000, (cu.user + cu.system) / 1e6]);
    c.closeSync(); inst.closeSync();
    (await import('node:fs')).rmSync('/tmp/cm.duckdb', { force: true });
  }
}
for (const [k, v] of Object.entries(res)) { const w = v.map(x => x[0]).sort(); const c = v.map(x => x[1]).sort(); console.log(k.padEnd(18), 'wall', w[2].toFixed(3), 'cpu', c[2].toFixed(3)); }
