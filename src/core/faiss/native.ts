/**
 * Loads the compiled addon: a local build (build/Release) or the prebuild shipped in the npm package
 * (prebuilds/linux-x64), in the order of addon-location.ts. Only modules that need FAISS import
 * this, so `indexctl --help` and `--version` never load native code. A failed load explains what
 * was tried and the possible fixes (docs/building.md).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { addonCandidates } from './addon-location.js';
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
  coarseDistances(x: Float32Array): Float32Array;
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
  /** write_index into a new file, XXH64'd as written and fdatasync'ed; absent without libxxhash-dev. */
  writeHashedAsync?(path: string): Promise<NativeFileDigest>;
  checkStructure(): NativeStructureReport;
  mergeFrom(other: NativeIndex): void;
}

/** What native/hashed_io.cc wrote: its size and XXH64 (seed 0). */
export interface NativeFileDigest {
  bytes: number;
  xxh64: bigint;
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
  /** The rows (ascending) of `values` (rows x dim) holding a NaN or +-Inf (native/kernels.cc). */
  nonFiniteRows?(values: Float32Array, dim: number): number[];
  /** XXH64 (seed 0) of each row's bytes into `out`; absent when built without libxxhash-dev. */
  hashRows?(values: Float32Array, dim: number, out: BigUint64Array): void;
  /**
   * A new file `to` with `from`'s bytes (reflink or read/write), hashed in passing, fdatasync'ed.
   * `control` (BigInt64Array(2)): a non-zero [0] stops it before its next block ("cancelled").
   */
  copyFileHashedAsync?(from: string, to: string, control?: BigInt64Array): Promise<NativeFileDigest>;
  buildInfo: NativeBuildInfo;
}

let loaded: NativeAddon | undefined;

export function loadNative(): NativeAddon {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const { file, skip } of addonCandidates()) {
    if (skip) {
      tried.push(`${file}: skipped, ${skip}`);
      continue;
    }
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
      '  - "libopenblas" or "libgomp" missing (the prebuilt addon needs them): `apt-get install libopenblas0 libgomp1`',
      '  - installed from npm: `npm rebuild indexctl` (retries the prebuild, else builds from source;',
      '    a source build needs `apt-get install libfaiss-dev libopenblas-dev libxxhash-dev g++ make python3`)',
      '  - in a checkout: `npm run build:native` (or `bash scripts/setup.sh`, which also installs FAISS)',
      '  - "undefined symbol" or "NODE_MODULE_VERSION": rebuild for this Node (as above)',
      '  - a custom build elsewhere: set INDEXCTL_ADDON=/path/to/indexctl_faiss.node',
      'See docs/building.md.',
    ].join('\n'),
  );
}
