/**
 * One `build` through the library, in its own process so its peak RSS is its own.
 * usage: node dist/bench/build-child.js CHUNKS FACTORY ROOT VERSION [BASE] [--link-chunks] -> one JSON line
 * (with BASE: an incremental build, `build --base BASE`)
 */
import { build } from '../src/core/build/build.js';
import { peakRssMB } from './rss.js';

const args = process.argv.slice(2);
const linkChunks = args.includes('--link-chunks');
const [chunks, factory, root, version, base] = args.filter((a) => a !== '--link-chunks') as [
  string,
  string,
  string,
  string,
  string?,
];
const started = performance.now();
const cpu = process.cpuUsage();
const report = await build({ root, chunks, factory, version, linkChunks, ...(base ? { base } : {}) });
const seconds = (performance.now() - started) / 1000;
// User + system CPU of the whole process (FAISS's and DuckDB's threads too) over the build.
const used = process.cpuUsage(cpu);
const bytes = Object.values(report.manifest!.files).reduce((sum, f) => sum + f.bytes, 0);
console.log(
  JSON.stringify({
    impl: 'indexctl',
    factory,
    seconds,
    cpu_s: (used.user + used.system) / 1e6,
    phases: report.seconds,
    checksumBytes: bytes,
    vectors: report.plan.vectors,
    dim: report.plan.dim,
    maxrss_mb: peakRssMB(),
    ...(report.incremental ? { incremental: report.incremental } : {}),
  }),
);
