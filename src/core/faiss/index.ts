/**
 * FaissIndex: the TypeScript face of the native binding. Arguments are checked here with precise
 * messages before C++ sees them; vectors cross as typed arrays without copying. Names follow
 * faiss-node where they overlap (fromFactory, ntotal, search, write, read, removeIds).
 */
import {
  loadNative,
  type MetricName,
  type NativeBuildInfo,
  type NativeFileDigest,
  type NativeIndex,
  type NativeStructureReport,
} from './native.js';

export type StructureReport = NativeStructureReport;

export type Metric = 'l2' | 'ip';

export interface SearchResult {
  /** nq * k distances, row-major by query. */
  distances: Float32Array;
  /** nq * k labels (external ids for IDMap indexes, rows otherwise); -1n where fewer than k exist. */
  labels: BigInt64Array;
}

export interface ReadOptions {
  /** IO_FLAG_MMAP: map IVF inverted lists instead of reading them (no effect on Flat/HNSW codes). */
  mmap?: boolean;
  /** IO_FLAG_READ_ONLY. */
  readOnly?: boolean;
}

export interface ParameterRange {
  name: string;
  values: number[];
}

const MAX_ID = (1n << 63n) - 1n;
const MAX_K = 1 << 20;

function checkInt(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new TypeError(`${name} must be an integer in [${min}, ${max}], got ${String(value)}`);
  }
  return value;
}

function checkVectors(x: unknown, d: number, name: string): number {
  if (!(x instanceof Float32Array)) {
    const got = x === null ? 'null' : typeof x === 'object' ? x.constructor.name : typeof x;
    throw new TypeError(`${name} must be a Float32Array, got ${got}`);
  }
  if (x.length === 0 || x.length % d !== 0) {
    throw new TypeError(`${name}: length ${x.length} is not a positive multiple of d=${d}`);
  }
  return x.length / d;
}

function checkIds(ids: unknown, n: number | undefined, name = 'ids'): BigInt64Array {
  if (!(ids instanceof BigInt64Array)) {
    throw new TypeError(`${name} must be a BigInt64Array (ids are 64-bit; never Number)`);
  }
  if (n !== undefined && ids.length !== n) {
    throw new TypeError(`${name}: ${ids.length} ids for ${n} vectors`);
  }
  return ids;
}

function checkId(id: unknown): bigint {
  const value = typeof id === 'number' && Number.isSafeInteger(id) ? BigInt(id) : id;
  if (typeof value !== 'bigint' || value < 0n || value > MAX_ID) {
    throw new TypeError(`id must be a bigint in [0, 2^63-1], got ${String(id)}`);
  }
  return value;
}

function checkMetric(metric: unknown): Metric {
  if (metric !== 'l2' && metric !== 'ip') {
    throw new TypeError(`metric must be 'l2' or 'ip', got ${String(metric)}`);
  }
  return metric;
}

function ioFlags(options: ReadOptions): number {
  const flags = loadNative().buildInfo.ioFlags;
  return (options.mmap ? flags.MMAP : 0) | (options.readOnly ? flags.READ_ONLY : 0);
}

export class FaissIndex {
  private constructor(private readonly native: NativeIndex) {}

  /** `faiss::index_factory(d, description, metric)`. Wrap with {@link wrapIdMap2} for external ids. */
  static fromFactory(d: number, description: string, metric: Metric = 'l2'): FaissIndex {
    checkInt(d, 'd', 1, 1 << 16);
    if (typeof description !== 'string' || description.trim() === '') {
      throw new TypeError('description must be a non-empty factory string, e.g. "HNSW32" or "IVF1024,Flat"');
    }
    return new FaissIndex(loadNative().NativeIndex.fromFactory(d, description, checkMetric(metric)));
  }

  /** `faiss::read_index(path, flags)`. */
  static read(path: string, options: ReadOptions = {}): FaissIndex {
    return new FaissIndex(loadNative().readIndex(checkPath(path), ioFlags(options)));
  }

  /** Like {@link read}, on a worker thread. */
  static async readAsync(path: string, options: ReadOptions = {}): Promise<FaissIndex> {
    return new FaissIndex(await loadNative().readIndexAsync(checkPath(path), ioFlags(options)));
  }

  /** Reads an index serialized by {@link toBuffer} (or Python `faiss.serialize_index`). */
  static fromBuffer(buf: Uint8Array): FaissIndex {
    if (!(buf instanceof Uint8Array)) throw new TypeError('fromBuffer expects a Buffer or Uint8Array');
    return new FaissIndex(loadNative().fromBuffer(buf));
  }

  /** Which FAISS the addon links: version, SIMD level, source. */
  static buildInfo(): NativeBuildInfo {
    return loadNative().buildInfo;
  }

  /** OpenMP threads used by FAISS, on the main thread and the async workers alike. */
  static setNumThreads(n: number): void {
    loadNative().setNumThreads(checkInt(n, 'threads', 1, 1024));
  }

  static getNumThreads(): number {
    return loadNative().getNumThreads();
  }

  /**
   * A zeroed Float32Array of n x d for vectors bound for FAISS, in 2 MiB-aligned memory advised for
   * transparent huge pages (as numpy does for large arrays): large adds copy from it with fewer TLB
   * misses and page faults than from an ordinary ArrayBuffer. Freed when garbage-collected.
   */
  static allocateVectors(n: number, d: number): Float32Array {
    checkInt(n, 'n', 0, Number.MAX_SAFE_INTEGER);
    checkInt(d, 'd', 1, 1 << 16);
    return loadNative().allocFloat32(n * d);
  }

  get d(): number {
    return this.native.info().d;
  }
  get ntotal(): number {
    return this.native.info().ntotal;
  }
  get isTrained(): boolean {
    return this.native.info().isTrained;
  }
  get metric(): MetricName {
    return this.native.info().metric;
  }
  /** e.g. `IndexIDMap2<IndexHNSWFlat>`. */
  get className(): string {
    return this.native.info().className;
  }

  /** Wraps this (empty) index in `IndexIDMap2` in code, so rows carry external ids. */
  wrapIdMap2(): this {
    this.native.wrapIdMap2();
    return this;
  }

  train(x: Float32Array): void {
    checkVectors(x, this.d, 'train vectors');
    this.native.train(x);
  }

  async trainAsync(x: Float32Array): Promise<void> {
    checkVectors(x, this.d, 'train vectors');
    await this.native.trainAsync(x);
  }

  /** For indexes without an IDMap wrapper (rows are the ids). */
  add(x: Float32Array): void {
    checkVectors(x, this.d, 'vectors');
    this.native.add(x);
  }

  /** Ids must be >= 0: -1 is FAISS's "no result". */
  addWithIds(x: Float32Array, ids: BigInt64Array): void {
    const n = checkVectors(x, this.d, 'vectors');
    this.native.addWithIds(x, checkIds(ids, n));
  }

  async addWithIdsAsync(x: Float32Array, ids: BigInt64Array): Promise<void> {
    const n = checkVectors(x, this.d, 'vectors');
    await this.native.addWithIdsAsync(x, checkIds(ids, n));
  }

  search(q: Float32Array, k: number): SearchResult {
    checkVectors(q, this.d, 'queries');
    return this.native.search(q, checkInt(k, 'k', 1, MAX_K));
  }

  async searchAsync(q: Float32Array, k: number): Promise<SearchResult> {
    checkVectors(q, this.d, 'queries');
    return this.native.searchAsync(q, checkInt(k, 'k', 1, MAX_K));
  }

  /** The stored vector of an external id (IndexIDMap2) or a row (unwrapped indexes). */
  reconstruct(id: bigint | number): Float32Array {
    return this.native.reconstruct(checkId(id));
  }

  /** Removes the given ids; returns how many were removed. */
  /**
   * Removes these external ids; returns how many were held. Over an IVF the native side renumbers
   * the rows kept in the inverted lists (FAISS 1.7.3's IndexIDMap2 leaves them stale: native/remove.cc).
   */
  removeIds(ids: BigInt64Array): number {
    return this.native.removeIds(checkIds(ids, undefined));
  }

  /** Each vector's L2 distance to its nearest coarse centroid (IVF indexes only): the drift measure. */
  coarseDistances(x: Float32Array): Float32Array {
    checkVectors(x, this.d, 'vectors');
    return this.native.coarseDistances(x);
  }

  /** IndexIDMap2::check_consistency; throws FaissError (FAISS's message) when id_map and rev_map disagree. */
  checkConsistency(): boolean {
    return this.native.checkConsistency();
  }

  /**
   * Walks the loaded index through its wrappers (IDMap, PreTransform, Refine) and checks that every
   * stored number FAISS indexes an array with is inside it: HNSW links, levels, offsets and entry
   * point; IVF list sizes, ids and code bytes; flat codes; PQ/SQ sizes. read_index checks none of
   * these, and the first search that follows a bad one can crash the process. Never throws for what
   * it finds; classes it does not know are listed as "not inspected: <class>".
   */
  checkStructure(): StructureReport {
    return this.native.checkStructure();
  }

  /** Row -> external id, in row order. */
  idMap(): BigInt64Array {
    return this.native.idMap();
  }

  /** `ParameterSpace::set_index_parameters`, e.g. "nprobe=16,efSearch=64"; passes through IDMap. */
  setParameters(spec: string): void {
    if (
      typeof spec !== 'string' ||
      !/^\s*[A-Za-z_]+=[-0-9.e]+(\s*,\s*[A-Za-z_]+=[-0-9.e]+)*\s*$/.test(spec)
    ) {
      throw new TypeError(`parameters must look like "nprobe=16,efSearch=64", got ${JSON.stringify(spec)}`);
    }
    this.native.setParameters(spec.replace(/\s+/g, ''));
  }

  /** The search parameters actually stored in the index (nprobe, efSearch, k_factor_rf, ...). */
  getParameters(): Record<string, number> {
    return this.native.getParameters();
  }

  /** `ParameterSpace::initialize` on the index inside the IDMap wrapper. */
  parameterRanges(): ParameterRange[] {
    return this.native.parameterRanges();
  }

  write(path: string): void {
    this.native.write(checkPath(path));
  }

  async writeAsync(path: string): Promise<void> {
    await this.native.writeAsync(checkPath(path));
  }

  /**
   * Writes the index into a new file (never over an existing one), hashing its bytes as they go out
   * and flushing it to disk: the file's size and XXH64 without reading it back. Undefined, with
   * nothing written, when the addon was built without libxxhash-dev (then: writeAsync, then hash).
   */
  async writeHashed(path: string): Promise<NativeFileDigest | undefined> {
    const write = this.native.writeHashedAsync;
    return write ? await write.call(this.native, checkPath(path)) : undefined;
  }

  /** The bytes `write` would produce (Python: `faiss.serialize_index`). */
  toBuffer(): Buffer {
    return this.native.toBuffer();
  }

  /**
   * Reserves storage for `n` vectors in all before adding them in batches (Flat/PQ/SQ codes, HNSW
   * storage, the IDMap2 maps; IVF lists cannot be sized in advance). Saves the geometric regrowth
   * of FAISS's vectors and the rehashing of rev_map: a 1M x 384 Flat add in 10 batches went from
   * 2.4-3.5 s to 1.2-1.6 s.
   */
  reserve(n: number): void {
    this.native.reserve(checkInt(n, 'n', 0, Number.MAX_SAFE_INTEGER));
  }

  /**
   * Moves every vector of `other` (same class, trained alike) into this index; `other` is left
   * empty. IndexIDMap2 pairs merge their id maps too; an id held by both is refused (FaissError).
   */
  mergeFrom(other: FaissIndex): void {
    if (!(other instanceof FaissIndex)) throw new TypeError('mergeFrom expects a FaissIndex');
    this.native.mergeFrom(other.native);
  }

  /** Frees the native index now instead of at garbage collection. */
  dispose(): void {
    this.native.dispose();
  }
}

function checkPath(path: unknown): string {
  if (typeof path !== 'string' || path === '') throw new TypeError('path must be a non-empty string');
  return path;
}
