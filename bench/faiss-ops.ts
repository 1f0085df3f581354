/**
 * The indexctl side of the FAISS benchmark: the same calls as bench/faiss_ops.py, through FaissIndex.
 * usage: node dist/bench/faiss-ops.js OP DATA_FILE N D  -> one JSON line {op, seconds, maxrss_mb, ...}
 * INDEXCTL_ADDON selects another build of the addon (e.g. the generic one).
 */
import { openSync, readSync, closeSync } from 'node:fs';

import { FaissIndex } from '../src/core/faiss/index.js';
import { peakRssMB } from './rss.js';

const [op, dataFile, nArg, dArg] = process.argv.slice(2);
const n = Number(nArg);
const d = Number(dArg);

function readVectors(file: string, count: number): Float32Array {
  const out = FaissIndex.allocateVectors(count / d, d);
  const bytes = new Uint8Array(out.buffer);
  const fd = openSync(file, 'r');
  for (let off = 0; off < bytes.length;) {
    const got = readSync(fd, bytes, off, Math.min(1 << 26, bytes.length - off), off);
    if (got === 0) throw new Error(`${file}: ${off} bytes, needed ${bytes.length}`);
    off += got;
  }
  closeSync(fd);
  return out;
}

const x = readVectors(dataFile!, n * d);
const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 7n + 1n);
const q = x.slice(0, 1000 * d);
const out: Record<string, unknown> = { op, impl: 'indexctl', n, simd: FaissIndex.buildInfo().simd };

async function timed(fn: () => unknown): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

/** The measured part of an op: wall seconds and CPU seconds of all threads. */
async function measured(fn: () => Promise<unknown>): Promise<void> {
  const c = process.cpuUsage();
  const t = performance.now();
  await fn();
  out.seconds = (performance.now() - t) / 1000;
  const used = process.cpuUsage(c);
  out.cpu_s = (used.user + used.system) / 1e6;
}

function idmap(factory: string): FaissIndex {
  return FaissIndex.fromFactory(d, factory).wrapIdMap2();
}

switch (op) {
  case 'flat_add': {
    const index = idmap('Flat');
    await measured(() => index.addWithIdsAsync(x, ids));
    break;
  }
  case 'flat_search': {
    const index = idmap('Flat');
    await index.addWithIdsAsync(x, ids);
    await measured(() => index.searchAsync(q, 10));
    break;
  }
  case 'hnsw_add': {
    const index = idmap('HNSW32');
    await measured(() => index.addWithIdsAsync(x, ids));
    index.setParameters('efSearch=64');
    out.search_s = await timed(() => index.searchAsync(q, 10));
    break;
  }
  case 'ivf_train_add': {
    const index = idmap('IVF1024,Flat');
    await measured(async () => {
      await index.trainAsync(x.subarray(0, 50_000 * d));
      await index.addWithIdsAsync(x, ids);
    });
    index.setParameters('nprobe=16');
    out.search_s = await timed(() => index.searchAsync(q, 10));
    break;
  }
  case 'ivfpq_fs_search': {
    const index = idmap('IVF256,PQ48x4fs');
    await index.trainAsync(x.subarray(0, 20_000 * d));
    await index.addWithIdsAsync(x, ids);
    index.setParameters('nprobe=16');
    await index.searchAsync(q.subarray(0, 10 * d), 10);
    await measured(() => index.searchAsync(q, 10));
    break;
  }
  default:
    throw new Error(`unknown op ${op}`);
}

out.maxrss_mb = peakRssMB();
console.log(JSON.stringify(out));
