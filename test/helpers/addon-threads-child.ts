/**
 * For test/faiss-native-guards.test.ts: `node addon-threads-child.js`. The addon is loaded by this
 * main thread and by two worker_threads at once; each creates an index, searches it, wraps an index
 * that C++ created (fromBuffer, readAsync) and provokes a FaissError, sync and async. Once the
 * workers have exited, the main thread does it all again: a class or constructor kept process-wide
 * would by then belong to an environment that no longer exists. Prints one JSON line: the main
 * thread's two rounds and each worker's round.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Worker, isMainThread, parentPort, threadId, workerData } from 'node:worker_threads';

import { FaissError } from '../../src/core/errors.js';
import { FaissIndex } from '../../src/core/faiss/index.js';
import { seededVectors } from '../../src/core/util/random.js';

export interface Round {
  thread: number;
  labels: string[];
  asyncLabels: string[];
  copyIsFaissIndex: boolean;
  copyLabels: string[];
  readIsFaissIndex: boolean;
  syncError: string;
  syncIsFaissError: boolean;
  asyncError: string;
  asyncIsFaissError: boolean;
}

const d = 16;
const n = 500;

function describeError(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

async function round(dir: string): Promise<Round> {
  const x = seededVectors(n, d, threadId + 1);
  const ids = BigInt64Array.from({ length: n }, (_, i) => BigInt(i) * 7n + 3n);
  const index = FaissIndex.fromFactory(d, 'Flat').wrapIdMap2();
  await index.addWithIdsAsync(x, ids);
  const q = x.subarray(0, 4 * d);
  const labels = [...index.search(q, 3).labels].map(String);
  const asyncLabels = [...(await index.searchAsync(q, 3)).labels].map(String);
  const copy = FaissIndex.fromBuffer(index.toBuffer());
  const file = path.join(dir, `t${threadId}.index`);
  await index.writeAsync(file);
  const read = await FaissIndex.readAsync(file);
  let syncError: unknown;
  try {
    index.setParameters('no_such_parameter=1');
  } catch (err) {
    syncError = err;
  }
  let asyncError: unknown;
  try {
    await FaissIndex.readAsync(path.join(dir, 'missing.index'));
  } catch (err) {
    asyncError = err;
  }
  return {
    thread: threadId,
    labels,
    asyncLabels,
    copyIsFaissIndex: copy instanceof FaissIndex,
    copyLabels: [...copy.search(q, 3).labels].map(String),
    readIsFaissIndex: read instanceof FaissIndex && read.ntotal === n,
    syncError: describeError(syncError),
    syncIsFaissError: syncError instanceof FaissError,
    asyncError: describeError(asyncError),
    asyncIsFaissError: asyncError instanceof FaissError,
  };
}

function runWorker(dir: string): Promise<{ round: Round; exitCode: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: dir });
    let result: Round | undefined;
    worker.on('message', (message: Round) => (result = message));
    worker.on('error', reject);
    worker.on('exit', (exitCode) =>
      result
        ? resolve({ round: result, exitCode })
        : reject(new Error(`worker exited ${exitCode} without a result`)),
    );
  });
}

if (isMainThread) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'indexctl-threads-'));
  try {
    const first = await round(dir);
    const [workers, concurrent] = await Promise.all([
      Promise.all([runWorker(dir), runWorker(dir)]),
      round(dir),
    ]);
    const after = await round(dir);
    console.log(JSON.stringify({ first, concurrent, workers, after }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
} else {
  parentPort!.postMessage(await round(workerData as string));
}
