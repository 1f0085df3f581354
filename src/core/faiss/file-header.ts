/**
 * A pre-read check of a faiss.index file, before FAISS reads it. FAISS 1.7.3's read_index
 * (impl/index_read.cpp) trusts the counts in the file: it resizes a vector to the size a header
 * claims before reading it, and sizes tables from `nlist` or `ntotal`. A resealed file whose ntotal
 * or a vector length is 2^63-1 makes it allocate without end (the verify probe grew at ~40 MB/s) or
 * crash (SIGSEGV in process, in `search` and openIndex).
 *
 * This walks the serialization of the index types indexctl builds and adopts (IDMap wrappers, flat,
 * PQ, SQ, HNSW, IVF with array / block / on-disk lists, refine, pre-transform and its transforms),
 * and checks each count and byte length against the bytes left in the file, and the counts against
 * each other (codes = ntotal x code_size, id_map = ntotal, ...), without allocating what the file
 * claims: it reads through one small buffer and skips over vector contents.
 *
 * A violation is IndexCorruptionError naming the file, the field, the claimed and the possible size.
 * A fourcc it does not know ends the walk without a verdict on what follows (`unknown`): FAISS may
 * read types this walker was not taught, and verify's probe bounds still apply to them.
 */
import { open, type FileHandle } from 'node:fs/promises';

import { IndexCorruptionError } from '../errors.js';

export interface IndexFileShape {
  file: string;
  bytes: number;
  /** The fourccs walked, nested: `IxM2(IxF2)`, `IxM2(IwFl(IxF2) ilar)`. */
  layout: string;
  /** The outermost index's header. */
  d: number;
  ntotal: bigint;
  /** A fourcc the walker does not know, where it stopped; what follows it was not checked. */
  unknown?: { fourcc: string; offset: number; field: string };
  /** Bytes after the outermost index (FAISS ignores them). */
  trailing: number;
}

const BUFFER = 64 * 1024;
/** READVECTOR refuses 2^40 elements or more (faiss/impl/io_macros.h). */
const FAISS_VECTOR_LIMIT = 1n << 40n;

/** A fourcc as text, bytes outside printable ASCII as \\xNN. */
export function printable(fourcc: string): string {
  return fourcc.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** A fourcc this walker does not know: ends the walk, not an error. */
class UnknownFourcc extends Error {
  constructor(
    readonly fourcc: string,
    readonly offset: number,
    readonly field: string,
  ) {
    super(`unknown fourcc ${fourcc}`);
  }
}

/** Reads the file forward through one bounded buffer; every read is checked against the bytes left. */
class Reader {
  pos = 0;
  private buf = Buffer.alloc(BUFFER);
  private bufStart = 0;
  private bufLen = 0;
  readonly path: string[] = [];

  constructor(
    private readonly fh: FileHandle,
    readonly file: string,
    readonly size: number,
  ) {}

  get remaining(): number {
    return this.size - this.pos;
  }

  field(name: string): string {
    return [...this.path, name].join('.');
  }

  corrupt(name: string, what: string): IndexCorruptionError {
    return new IndexCorruptionError(`${this.file}: ${this.field(name)} ${what}`);
  }

  /** Refuses a field that claims more bytes than the file has left. */
  need(name: string, bytes: bigint, what = `${bytes} bytes`): void {
    if (bytes > BigInt(this.remaining)) {
      throw this.corrupt(
        name,
        `claims ${what} at offset ${this.pos}, but only ${this.remaining} of the file's ${this.size} bytes remain`,
      );
    }
  }

  private async bytes(name: string, n: number): Promise<Buffer> {
    this.need(name, BigInt(n));
    if (this.pos < this.bufStart || this.pos + n > this.bufStart + this.bufLen) {
      this.bufStart = this.pos;
      const { bytesRead } = await this.fh.read(this.buf, 0, Math.min(BUFFER, this.remaining), this.pos);
      this.bufLen = bytesRead;
      if (bytesRead < n) throw this.corrupt(name, `cannot be read at offset ${this.pos} (short read)`);
    }
    const at = this.pos - this.bufStart;
    this.pos += n;
    return this.buf.subarray(at, at + n);
  }

  async u8(name: string): Promise<number> {
    return (await this.bytes(name, 1)).readUInt8(0);
  }
  async i32(name: string): Promise<number> {
    return (await this.bytes(name, 4)).readInt32LE(0);
  }
  async i64(name: string): Promise<bigint> {
    return (await this.bytes(name, 8)).readBigInt64LE(0);
  }
  async u64(name: string): Promise<bigint> {
    return (await this.bytes(name, 8)).readBigUInt64LE(0);
  }
  async fourcc(name: string): Promise<string> {
    return (await this.bytes(name, 4)).toString('latin1');
  }
  skip(name: string, bytes: bigint): void {
    this.need(name, bytes);
    this.pos += Number(bytes);
  }

  /** A size-prefixed vector (READVECTOR): its element count, checked and skipped. */
  async vector(name: string, elementBytes: number, unit = 1): Promise<bigint> {
    const count = await this.u64(`${name}.size`);
    if (count >= FAISS_VECTOR_LIMIT) {
      throw this.corrupt(name, `claims ${count} elements, over FAISS's limit of 2^40`);
    }
    const bytes = count * BigInt(elementBytes * unit);
    this.need(name, bytes, `${count} elements (${bytes} bytes)`);
    this.pos += Number(bytes);
    return count;
  }

  /** Sums a vector of uint64 (list sizes) by streaming it through the buffer. */
  async sumU64(name: string, count: bigint): Promise<bigint> {
    this.need(name, count * 8n, `${count} sizes (${count * 8n} bytes)`);
    let sum = 0n;
    for (let i = 0n; i < count; i++) sum += await this.u64(name);
    return sum;
  }

  /** The uint64 at `offset` (already checked to lie in the file), without moving. */
  async u64At(offset: number): Promise<bigint> {
    const b = Buffer.alloc(8);
    await this.fh.read(b, 0, 8, offset);
    return b.readBigUInt64LE(0);
  }
}

interface Header {
  fourcc: string;
  d: number;
  ntotal: bigint;
  isTrained: boolean;
  layout: string;
}

function equal(r: Reader, name: string, claimed: bigint, expected: bigint, why: string): void {
  if (claimed !== expected) throw r.corrupt(name, `claims ${claimed}, but ${why} is ${expected}`);
}

async function indexHeader(r: Reader, fourcc: string): Promise<Header> {
  const d = await r.i32('d');
  if (d < 0) throw r.corrupt('d', `is negative (${d})`);
  const ntotal = await r.i64('ntotal');
  if (ntotal < 0n) throw r.corrupt('ntotal', `is negative (${ntotal})`);
  r.skip('dummy', 16n);
  const isTrained = (await r.u8('is_trained')) !== 0;
  const metric = await r.i32('metric_type');
  if (metric > 1) r.skip('metric_arg', 4n);
  return { fourcc, d, ntotal, isTrained, layout: fourcc };
}

/** Every stored vector takes `bytesPerVector` bytes of the remaining file: ntotal must fit. */
function ntotalFits(r: Reader, h: Header, bytesPerVector: bigint): void {
  const bytes = h.ntotal * bytesPerVector;
  if (bytes > BigInt(r.remaining)) {
    throw r.corrupt(
      'ntotal',
      `claims ${h.ntotal} vectors of ${bytesPerVector} bytes (${bytes} bytes), but only ${r.remaining} of the file's ${r.size} bytes remain`,
    );
  }
}

async function productQuantizer(
  r: Reader,
): Promise<{ d: bigint; M: bigint; nbits: bigint; codeSize: bigint }> {
  r.path.push('pq');
  const d = await r.u64('d');
  const M = await r.u64('M');
  const nbits = await r.u64('nbits');
  if (nbits > 24n) throw r.corrupt('nbits', `is ${nbits}, FAISS allows at most 24`);
  // set_derived_values sizes the centroids table (d * 2^nbits floats) before reading it.
  const centroids = d << nbits;
  r.need('centroids', centroids * 4n, `d x 2^nbits = ${centroids} centroids (${centroids * 4n} bytes)`);
  equal(r, 'centroids.size', await r.vector('centroids', 4), centroids, 'd x 2^nbits');
  r.path.pop();
  return { d, M, nbits, codeSize: (M * nbits + 7n) / 8n };
}

async function scalarQuantizer(r: Reader): Promise<bigint> {
  r.path.push('sq');
  r.skip('qtype, rangestat, rangestat_arg', 12n);
  await r.u64('d');
  const codeSize = await r.u64('code_size');
  await r.vector('trained', 4);
  r.path.pop();
  return codeSize;
}

async function vectorTransform(r: Reader): Promise<string> {
  const at = r.pos;
  const h = await r.fourcc('fourcc');
  r.path.push(h);
  if (['rrot', 'PCAm', 'LTra', 'PcAm', 'Viqm', 'Pcam'].includes(h)) {
    if (h.toLowerCase() === 'pcam') {
      r.skip('eigen_power', 4n);
      if (h === 'Pcam') r.skip('epsilon', 4n);
      r.skip('random_rotation', 1n);
      if (h !== 'PCAm') r.skip('balanced_bins', 4n);
      await r.vector('mean', 4);
      await r.vector('eigenvalues', 4);
      await r.vector('PCAMat', 4);
    } else if (h === 'Viqm') {
      r.skip('max_iter, seed', 8n);
    }
    r.skip('have_bias', 1n);
    await r.vector('A', 4);
    await r.vector('b', 4);
  } else if (h === 'RmDT') {
    await r.vector('map', 4);
  } else if (h === 'VNrm') {
    r.skip('norm', 4n);
  } else if (h === 'VCnt') {
    await r.vector('mean', 4);
  } else if (h === 'Viqt') {
    await r.vector('mean', 4);
    r.skip('do_pca', 1n);
    await vectorTransform(r);
    await vectorTransform(r);
  } else {
    r.path.pop();
    throw new UnknownFourcc(h, at, r.field('transform'));
  }
  r.skip('d_in, d_out, is_trained', 9n);
  r.path.pop();
  return h;
}

/** The inverted lists of an IVF index; returns their total entries and a layout tag. */
async function invertedLists(r: Reader, nlist: bigint, codeSize: bigint, ntotal: bigint): Promise<string> {
  const at = r.pos;
  const h = await r.fourcc('invlists');
  r.path.push(h);
  if (h === 'il00') {
    r.path.pop();
    return h;
  }
  if (h !== 'ilar' && h !== 'ilbl' && h !== 'ilod') {
    r.path.pop();
    throw new UnknownFourcc(h, at, r.field('invlists'));
  }
  equal(r, 'nlist', await r.u64('nlist'), nlist, "the IVF index's nlist");
  const listCodeSize = await r.u64('code_size');
  let entries: bigint;
  if (h === 'ilar') {
    equal(r, 'code_size', listCodeSize, codeSize, "the IVF index's code_size");
    // read_index allocates nlist list sizes before it reads them.
    const type = await r.fourcc('list_type');
    if (type === 'full') {
      const count = await r.u64('sizes.size');
      equal(r, 'sizes.size', count, nlist, 'nlist');
      entries = await r.sumU64('sizes', count);
    } else if (type === 'sprs') {
      const count = await r.u64('sizes.size');
      r.need('sizes', count * 8n, `${count} sizes (${count * 8n} bytes)`);
      entries = 0n;
      for (let i = 0n; i < count; i += 2n) {
        const list = await r.u64('sizes');
        if (list >= nlist) throw r.corrupt('sizes', `names list ${list}, but nlist is ${nlist}`);
        if (i + 1n < count) entries += await r.u64('sizes');
      }
    } else {
      throw r.corrupt('list_type', `is ${JSON.stringify(type)}, not "full" or "sprs"`);
    }
    r.need('lists', entries * (codeSize + 8n), `${entries} entries of ${codeSize + 8n} bytes`);
    r.pos += Number(entries * (codeSize + 8n));
  } else if (h === 'ilbl') {
    r.skip('n_per_block, block_size', 16n);
    // Each list is two size-prefixed vectors: at least 16 bytes.
    r.need('lists', nlist * 16n, `${nlist} lists of at least 16 bytes`);
    entries = 0n;
    for (let i = 0n; i < nlist; i++) {
      entries += await r.vector('ids', 8);
      await r.vector('codes', 1);
    }
  } else {
    // ilod: the lists live in another file; only their table is here.
    await r.vector('lists', 24);
    await r.vector('slots', 16);
    await r.vector('filename', 1);
    r.skip('totsize', 8n);
    r.path.pop();
    return h;
  }
  equal(r, 'entries', entries, ntotal, "the IVF index's ntotal");
  r.path.pop();
  return h;
}

async function ivfHeader(r: Reader): Promise<{ nlist: bigint; quantizer: Header | null }> {
  const nlist = await r.u64('nlist');
  r.skip('nprobe', 8n);
  const quantizer = await readIndex(r, 'quantizer');
  r.path.push('direct_map');
  const type = await r.u8('type');
  await r.vector('array', 8);
  if (type === 2) await r.vector('hashtable', 16);
  r.path.pop();
  return { nlist, quantizer };
}

function nested(h: Header, ...children: (Header | string | null)[]): string {
  const inner = children.map((c) => (c === null ? 'null' : typeof c === 'string' ? c : c.layout));
  return `${h.fourcc}(${inner.join(' ')})`;
}

function sameCount(r: Reader, name: string, outer: Header, inner: Header | null): void {
  if (inner) equal(r, name, inner.ntotal, outer.ntotal, `${outer.fourcc} ntotal`);
}

/** One serialized index, recursively; null for FAISS's "null" placeholder. */
async function readIndex(r: Reader, role: string): Promise<Header | null> {
  const at = r.pos;
  const fourcc = await r.fourcc(`${role}.fourcc`);
  if (fourcc === 'null') return null;
  const known = /^(Ix(M2|Mp|F2|FI|Fl|PQ|Po|Pq|SQ|RF|PT)|IHN[fps2]|Iw(Fl|PQ|QR|SQ|Sq|Pf)|IPfs)$/;
  if (!known.test(fourcc)) throw new UnknownFourcc(fourcc, at, r.field(role));
  r.path.push(`${role}:${fourcc}`);
  const h = await indexHeader(r, fourcc);
  switch (fourcc) {
    case 'IxM2':
    case 'IxMp': {
      const sub = await readIndex(r, 'index');
      // The id map is the last vector: 8 bytes per vector.
      ntotalFits(r, h, 8n);
      equal(r, 'id_map.size', await r.vector('id_map', 8), h.ntotal, 'ntotal');
      sameCount(r, 'index.ntotal', h, sub);
      h.layout = nested(h, sub);
      break;
    }
    case 'IxF2':
    case 'IxFI':
    case 'IxFl': {
      ntotalFits(r, h, BigInt(h.d) * 4n);
      equal(r, 'codes.size', await r.vector('codes', 4), h.ntotal * BigInt(h.d), 'ntotal x d floats');
      break;
    }
    case 'IxPQ':
    case 'IxPo':
    case 'IxPq': {
      const pq = await productQuantizer(r);
      ntotalFits(r, h, pq.codeSize);
      equal(r, 'codes.size', await r.vector('codes', 1), h.ntotal * pq.codeSize, 'ntotal x code_size');
      if (fourcc !== 'IxPQ') r.skip('search_type, encode_signs, polysemous_ht', 9n);
      break;
    }
    case 'IxSQ': {
      const codeSize = await scalarQuantizer(r);
      ntotalFits(r, h, codeSize);
      equal(r, 'codes.size', await r.vector('codes', 1), h.ntotal * codeSize, 'ntotal x code_size');
      break;
    }
    case 'IPfs': {
      await productQuantizer(r);
      r.skip('implem, bbs, qbs', 12n);
      r.skip('ntotal2, M2', 16n);
      await r.vector('codes', 1);
      break;
    }
    case 'IHNf':
    case 'IHNp':
    case 'IHNs':
    case 'IHN2': {
      r.path.push('hnsw');
      // levels (4 bytes) and offsets (8 bytes) hold one entry per vector.
      ntotalFits(r, h, 12n);
      await r.vector('assign_probas', 8);
      await r.vector('cum_nneighbor_per_level', 4);
      equal(r, 'levels.size', await r.vector('levels', 4), h.ntotal, 'ntotal');
      const offsetsAt = r.pos + 8;
      const offsets = await r.vector('offsets', 8);
      equal(r, 'offsets.size', offsets, h.ntotal + 1n, 'ntotal + 1');
      const links = await r.u64At(offsetsAt + Number(h.ntotal) * 8);
      equal(r, 'neighbors.size', await r.vector('neighbors', 4), links, 'the last offset');
      r.skip('entry_point, max_level, efConstruction, efSearch, upper_beam', 20n);
      r.path.pop();
      const storage = await readIndex(r, 'storage');
      sameCount(r, 'storage.ntotal', h, storage);
      h.layout = nested(h, storage);
      break;
    }
    case 'IwFl': {
      const { nlist, quantizer } = await ivfHeader(r);
      const lists = await invertedLists(r, nlist, BigInt(h.d) * 4n, h.ntotal);
      h.layout = nested(h, quantizer, lists);
      break;
    }
    case 'IwSQ':
    case 'IwSq': {
      const { nlist, quantizer } = await ivfHeader(r);
      await scalarQuantizer(r);
      const codeSize = await r.u64('code_size');
      if (fourcc === 'IwSq') r.skip('by_residual', 1n);
      const lists = await invertedLists(r, nlist, codeSize, h.ntotal);
      h.layout = nested(h, quantizer, lists);
      break;
    }
    case 'IwPQ':
    case 'IwQR': {
      const { nlist, quantizer } = await ivfHeader(r);
      r.skip('by_residual', 1n);
      const codeSize = await r.u64('code_size');
      await productQuantizer(r);
      const lists = await invertedLists(r, nlist, codeSize, h.ntotal);
      if (fourcc === 'IwQR' && h.isTrained) {
        const refine = await productQuantizer(r);
        const codes = await r.vector('refine_codes', 1);
        equal(r, 'refine_codes.size', codes, h.ntotal * refine.codeSize, 'ntotal x refine code_size');
        r.skip('k_factor', 4n);
      }
      h.layout = nested(h, quantizer, lists);
      break;
    }
    case 'IwPf': {
      const { nlist, quantizer } = await ivfHeader(r);
      r.skip('by_residual', 1n);
      const codeSize = await r.u64('code_size');
      r.skip('bbs, M2, implem, qbs2', 24n);
      await productQuantizer(r);
      const lists = await invertedLists(r, nlist, codeSize, h.ntotal);
      h.layout = nested(h, quantizer, lists);
      break;
    }
    case 'IxRF': {
      const base = await readIndex(r, 'base_index');
      const refine = await readIndex(r, 'refine_index');
      r.skip('k_factor', 4n);
      sameCount(r, 'base_index.ntotal', h, base);
      sameCount(r, 'refine_index.ntotal', h, refine);
      h.layout = nested(h, base, refine);
      break;
    }
    case 'IxPT': {
      const nt = await r.i32('nt');
      // A transform is at least its fourcc and d_in, d_out, is_trained.
      if (nt < 0) throw r.corrupt('nt', `is negative (${nt})`);
      r.need('chain', BigInt(nt) * 13n, `${nt} transforms of at least 13 bytes`);
      const chain: string[] = [];
      for (let i = 0; i < nt; i++) chain.push(await vectorTransform(r));
      const sub = await readIndex(r, 'index');
      sameCount(r, 'index.ntotal', h, sub);
      h.layout = nested(h, ...chain, sub);
      break;
    }
  }
  r.path.pop();
  return h;
}

/**
 * Walks `file`'s serialization and checks every count against the file's size (see the module
 * comment). Throws IndexCorruptionError for a count or length the file cannot hold.
 */
export async function checkIndexFile(file: string): Promise<IndexFileShape> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const r = new Reader(fh, file, size);
    try {
      const top = await readIndex(r, 'index');
      if (!top) throw r.corrupt('index', 'is the "null" placeholder: there is no index in the file');
      return { file, bytes: size, layout: top.layout, d: top.d, ntotal: top.ntotal, trailing: r.remaining };
    } catch (err) {
      if (!(err instanceof UnknownFourcc)) throw err;
      // Only the outermost header is known for sure: re-read it for the summary.
      const head = new Reader(fh, file, size);
      const fourcc = await head.fourcc('index.fourcc');
      const h = /^I/.test(fourcc) ? await indexHeader(head, fourcc) : undefined;
      return {
        file,
        bytes: size,
        layout: `${fourcc}(...)`,
        d: h?.d ?? 0,
        ntotal: h?.ntotal ?? 0n,
        unknown: { fourcc: printable(err.fourcc), offset: err.offset, field: err.field },
        trailing: 0,
      };
    }
  } finally {
    await fh.close();
  }
}
