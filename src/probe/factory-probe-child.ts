/**
 * A process entry point (it prints and exits), so it lives in src/probe/, outside src/core where nothing does.
 * The factory trial, run by build as a child process (`node factory-probe-child.js D FACTORY METRIC`): FAISS builds the index here, where a SIGSEGV, a SIGFPE or an endless allocating loop
 * ends this process instead of the build holding the lock. It constructs the index, reports
 * `is_trained` on stdout (one JSON line), then, when it needs no training, adds a few synthetic
 * vectors and searches one (where `IVF0` and `HNSW0` crash) and reports again. An index that needs
 * training is not trained here: FAISS 1.7.3 trains OPQ, RQ and LSQ for minutes even on a few
 * hundred vectors, too slow for a check.
 */
import { FaissIndex } from '../core/faiss/index.js';
import type { FactoryTrialReply } from '../core/build/factory-probe.js';

function say(reply: FactoryTrialReply): void {
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}

/** Deterministic values in [-1, 1): the trial must behave the same on every run. */
function synthetic(n: number, d: number): Float32Array {
  const x = new Float32Array(n * d);
  let s = 0x9e3779b9;
  for (let i = 0; i < x.length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    x[i] = (s >>> 0) / 2 ** 31 - 1;
  }
  return x;
}

function main(): void {
  const [dText, factory, metric] = process.argv.slice(2);
  const d = Number(dText);
  try {
    const index = FaissIndex.fromFactory(d, factory!, metric === 'l2' ? 'l2' : 'ip').wrapIdMap2();
    const isTrained = index.isTrained;
    say({ op: 'constructed', isTrained, className: index.className });
    if (!isTrained) return;
    const rows = 64;
    const x = synthetic(rows, d);
    index.addWithIds(
      x,
      BigInt64Array.from({ length: rows }, (_, i) => BigInt(i)),
    );
    index.search(x.subarray(0, d), 1);
    say({ op: 'exercised' });
  } catch (err) {
    const e = err as Error;
    say({ op: 'error', name: e.name, message: e.message });
  }
}

main();
