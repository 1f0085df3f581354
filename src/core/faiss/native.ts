/**
 * Loads the compiled addon (build/Release/indexctl_faiss.node). Only modules that need FAISS import
 * this, so `indexctl --help` and `--version` never load native code. A failed load explains what
 * was tried and the possible fixes (docs/building.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { packageRoot } from '../paths.js';

import { FaissError, NativeLoadError } from '../errors.js';

export type MetricName = 'l2' | 'ip' | 'other';

export interface NativeSearchResult {
  distances: Float32Array;
  labels: BigInt64Array;
}

export interface NativeIndexInfo {
  d: number;
  ntotal: number;
  isTrained: boolean;
  metric: MetricName;
  className: string;
  busy: boolean;
}

/** What the structural walk of a loaded index read, and the first inconsistency it met. */
export interface NativeStructureReport {
  ok: boolean;
  /** One line per part walked ("IndexHNSWFlat: 1000 nodes, ..."), or "not inspected: <class>". */
  checked: string[];
  /** Absent when ok: "HNSW node 1234 level 0 link 7 = 50000000 outside [-1, 1000)". */
  firstProblem?: string;
}

export interface NativeIndex {
  wrapIdMap2(): NativeIndex;
  train(x: Float32Array): void;
  add(x: Float32Array): void;
  addWithIds(x: Float32Array, ids: BigInt64Array): void;
  search(q: Float32Array, k: number): NativeSearchResult;
  reconstruct(id: bigint): Float32Array;
  removeIds(ids: BigInt64Array): number;
  checkConsistency(): boolean;
  idMap(): BigInt64Array;
  info(): NativeIndexInfo;
  dispose(): void;
  reserve(n: number): void;
  setParameters(spec: string): void;
  getParameters(): Record<string, number>;
  parameterRanges(): { name: string; values: number[] }[];
  write(path: string): void;
  toBuffer(): Buffer;
  trainAsync(x: Float32Array): Promise<void>;
  addWithIdsAsync(x: Float32Array, ids: BigInt64Array): Promise<void>;
  searchAsync(q: Float32Array, k: number): Promise<NativeSearchResult>;
  writeAsync(path: string): Promise<void>;
  checkStructure(): NativeStructureReport;
}

export interface NativeBuildInfo {
  faissVersion: string;
  simd: string;
  source: string;
  ioFlags: { READ_ONLY: number; ONDISK_SAME_DIR: number; SKIP_IVF_DATA: number; MMAP: number };
}

export interface NativeAddon {
  NativeIndex: { fromFactory(d: number, description: string, metric: string): NativeIndex };
  setErrorClass(cls: new (message: string) => Error): void;
  readIndex(path: string, ioFlags: number): NativeIndex;
  readIndexAsync(path: string, ioFlags: number): Promise<NativeIndex>;
  fromBuffer(buf: Uint8Array): NativeIndex;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  allocFloat32(length: number): Float32Array;
  buildInfo: NativeBuildInfo;
}

/** INDEXCTL_ADDON, when set, is the only candidate: an explicit choice must not fall back silently. */
function candidates(): string[] {
  const fromEnv = process.env.INDEXCTL_ADDON;
  if (fromEnv) return [fromEnv];
  return [
    path.join(packageRoot, 'build/Release/indexctl_faiss.node'),
    path.join(packageRoot, 'build/Debug/indexctl_faiss.node'),
  ];
}

let loaded: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const file of candidates()) {
    if (!existsSync(file)) {
      tried.push(`${file}: not found`);
      continue;
    }
    try {
      const addon = require(file) as NativeAddon;
      addon.setErrorClass(FaissError);
      loaded = addon;
      return addon;
    } catch (err) {
      tried.push(`${file}: ${(err as Error).message}`);
    }
  }
  throw new NativeLoadError(
    [
      'could not load the indexctl FAISS addon.',
      'Tried:',
      ...tried.map((line) => `  - ${line}`),
      'Possible fixes:',
      '  - build it: `npm run build:native` (or `bash scripts/setup.sh`, which also installs FAISS)',
      '  - "libfaiss.so" or "libopenblas" missing: `apt-get install libfaiss-dev libopenblas-dev`',
      '  - "undefined symbol" or "NODE_MODULE_VERSION": rebuild for this Node: `npm run build:native`',
      '  - a custom build elsewhere: set INDEXCTL_ADDON=/path/to/indexctl_faiss.node',
      'See docs/building.md.',
    ].join('\n'),
  );
}
