import { openChunks } from './dist/src/core/parquet/chunks-reader.js';
import { CatalogBuild } from './dist/src/core/catalog/create.js';
import { rmSync, mkdirSync } from 'node:fs';
const C = '/tmp/indexctl-bench/chunks-lowrank-300000x128.parquet';
const m = async (name, fn) => { const c0 = process.cpuUsage(); const t = performance.now(); await fn(); const c = process.cpuUsage(c0); console.log(name.padEnd(22), 'wall', ((performance.now()-t)/1000).toFixed(3), 'cpu', ((c.user+c.system)/1e6).toFixed(3), 'sys', (c.system/1e6).toFixed(3)); };
let r;
await m('open', async () => { r = await openChunks(C); });
for (let i = 0; i < 2; i++) await m('pass', async () => { const timing = { decode: 0, validate: 0 }; for await (const b of r.batches({ timing })) {} console.log(timing); });
r.close();
for (let i = 0; i < 2; i++) {
rmSync('/tmp/tc', { recursive: true, force: true }); mkdirSync('/tmp/tc');
await m('chunk_meta', async () => { const c = await CatalogBuild.open('/tmp/tc'); await new Promise((res, rej) => { c.fillFromInput([{ file: C, firstRow: 0 }], {}, res); }); await c.abort(); });
}
