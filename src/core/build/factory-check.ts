/**
 * The factory strings indexctl accepts, checked before FAISS sees them. FAISS 1.7.3's index_factory
 * takes zero counts and degenerate parameters without complaint and then crashes the process
 * (`IVF0,Flat`, `HNSW0`: SIGSEGV; `PQ0`, `OPQ0,PQ8`: SIGFPE) or loops while allocating without bound
 * (`HNSW1`, `NSG0`, `NSG2`), so the grammar is ours: a closed set of components with bounded
 * parameters (docs/format.md "Factory strings").
 *
 * Two kinds of refusal, two exit codes: a string that is wrong whatever the data is a usage error of
 * the flag (exit 2, `parseFactory`); a string that is fine but not for this data's dimension is bad
 * input (exit 5, `checkFactoryForDim`).
 */
import { BadInputError, UsageError } from '../errors.js';
import { splitFactoryComponents } from '../faiss/family.js';

/** One component after the grammar accepted it, with what later checks need. */
export type Component =
  | { kind: 'transform'; text: string; dOut?: number; pqM?: number; pad?: boolean; minTrain: number }
  | { kind: 'quantizer'; text: string; splits?: number; minTrain: number }
  | { kind: 'codes'; text: string; pqM?: number; splitsD?: number; minTrain: number };

export interface FactoryShape {
  /** The string as FAISS gets it (without a leading `IDMap2,`). */
  factory: string;
  components: Component[];
  /**
   * The fewest training vectors FAISS accepts when the index needs training: k-means needs as many
   * points as centroids (IVF lists, 2^nbits PQ/additive codewords, OPQ's 256).
   */
  minTrainVectors: number;
}

/** Counts beyond this are typos or overflow int in FAISS; no real index has 16M lists or links. */
const MAX_COUNT = 1 << 24;
const MAX_HNSW_M = 512;
/** HNSW's level multiplier is 1/ln(M): infinite for M = 1, where FAISS loops allocating forever. */
const HNSW_M_WHY = 'FAISS 1.7.3 crashes on M = 0 and loops allocating without bound on M = 1';
const LSQ_REASON =
  'LSQ is not accepted: FAISS 1.7.3 trains it for minutes even on a few hundred vectors (LSQ8x8 at ' +
  'd=96: 458 s on 256 vectors), holding the lock; use RQ<m>x<b> or PQ<m>[x<b>]';

class Refusal extends Error {}

function count(text: string, what: string, min = 1, max = MAX_COUNT, why?: string): number {
  const n = Number(text);
  if (n < min) {
    const because =
      why ?? (n === 0 ? 'FAISS 1.7.3 crashes or divides by zero on 0' : 'FAISS 1.7.3 cannot build it');
    throw new Refusal(`${what} is ${n}; it must be at least ${min} (${because})`);
  }
  if (n > max) throw new Refusal(`${what} is ${n}; at most ${max} is accepted`);
  return n;
}

function nbits(text: string | undefined, what: string): number {
  if (text === undefined) return 8;
  return count(text, `${what}: bits per code`, 1, 16);
}

function splitComponents(factory: string): string[] {
  const { parts, unbalanced } = splitFactoryComponents(factory);
  if (unbalanced !== null) throw new Refusal(unbalanced);
  return parts;
}

function transform(part: string): Component | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^PCA(W?)(R?)(\d+)$/.exec(part))) {
    return { kind: 'transform', text: part, dOut: count(m[3]!, `${part}: output dimension`), minTrain: 1 };
  }
  if ((m = /^OPQ(\d+)(?:_(\d+))?$/.exec(part))) {
    const pqM = count(m[1]!, `${part}: sub-quantizers`);
    const dOut = m[2] !== undefined ? count(m[2], `${part}: output dimension`) : undefined;
    // OPQ trains its own 8-bit PQ: 256 centroids per sub-quantizer.
    return { kind: 'transform', text: part, pqM, ...(dOut !== undefined ? { dOut } : {}), minTrain: 256 };
  }
  if ((m = /^RR(\d+)$/.exec(part))) {
    return { kind: 'transform', text: part, dOut: count(m[1]!, `${part}: output dimension`), minTrain: 0 };
  }
  if ((m = /^ITQ(\d+)?$/.exec(part))) {
    const dOut = m[1] !== undefined ? count(m[1], `${part}: output dimension`) : undefined;
    return { kind: 'transform', text: part, ...(dOut !== undefined ? { dOut } : {}), minTrain: 1 };
  }
  if ((m = /^Pad(\d+)$/.exec(part))) {
    return {
      kind: 'transform',
      text: part,
      dOut: count(m[1]!, `${part}: padded dimension`),
      pad: true,
      minTrain: 0,
    };
  }
  if (part === 'L2norm') return { kind: 'transform', text: part, minTrain: 0 };
  return undefined;
}

/** Codes stored per vector: after a coarse quantizer, as HNSW storage, or as a refine stage. */
function codes(part: string, where: 'ivf' | 'hnsw' | 'alone' | 'refine'): Component | undefined {
  let m: RegExpExecArray | null;
  if (part === 'Flat') return { kind: 'codes', text: part, minTrain: 0 };
  if (/^SQ(4|6|8|fp16)$/.test(part)) return { kind: 'codes', text: part, minTrain: 1 };
  if ((m = /^PQ(\d+)(?:x(\d+))?(fs|fsr|np)?$/.exec(part))) {
    const pqM = count(m[1]!, `${part}: sub-quantizers`, 1, 65_536);
    const bits = nbits(m[2], part);
    const suffix = m[3];
    if ((suffix === 'fs' || suffix === 'fsr') && bits !== 4) {
      throw new Refusal(`${part}: fast-scan PQ (${suffix}) needs 4-bit codes, e.g. PQ${pqM}x4${suffix}`);
    }
    if (suffix !== undefined && where === 'hnsw')
      throw new Refusal(`${part}: HNSW storage takes a plain PQ<m>[x<b>]`);
    if (suffix === 'fsr' && where !== 'ivf')
      throw new Refusal(`${part}: "fsr" applies after a coarse quantizer only`);
    return { kind: 'codes', text: part, pqM, minTrain: 2 ** bits };
  }
  if (where === 'hnsw' || where === 'refine') return undefined;
  if (/^P?LSQ\d/.test(part)) throw new Refusal(`${part}: ${LSQ_REASON}`);
  if ((m = /^(RQ)(\d+)x(\d+)$/.exec(part))) {
    count(m[2]!, `${part}: codebooks`, 1, 256);
    return { kind: 'codes', text: part, minTrain: 2 ** nbits(m[3], part) };
  }
  if (where === 'ivf') return undefined;
  if ((m = /^(PRQ)(\d+)x(\d+)x(\d+)$/.exec(part))) {
    const splitsD = count(m[2]!, `${part}: splits`, 1, 65_536);
    count(m[3]!, `${part}: codebooks`, 1, 256);
    return { kind: 'codes', text: part, splitsD, minTrain: 2 ** nbits(m[4], part) };
  }
  if ((m = /^LSH(r?)(t?)$/.exec(part))) return { kind: 'codes', text: part, minTrain: m[2] ? 1 : 0 };
  return undefined;
}

function quantizer(part: string): Component | undefined {
  let m: RegExpExecArray | null;
  if ((m = /^IVF(\d+)(?:_HNSW(\d+))?$/.exec(part))) {
    const nlist = count(m[1]!, `${part}: number of lists`);
    if (m[2] !== undefined) count(m[2], `${part}: HNSW links per node (M)`, 2, MAX_HNSW_M, HNSW_M_WHY);
    return { kind: 'quantizer', text: part, minTrain: nlist };
  }
  if ((m = /^IMI(\d+)x(\d+)$/.exec(part))) {
    const splits = count(m[1]!, `${part}: sub-quantizers`, 1, 8);
    const bits = count(m[2]!, `${part}: bits per sub-quantizer`, 1, 16);
    if (splits * bits > 24) {
      throw new Refusal(
        `${part}: 2^${splits * bits} inverted lists, allocated at once; at most 2^24 are accepted`,
      );
    }
    return { kind: 'quantizer', text: part, splits, minTrain: 2 ** bits };
  }
  return undefined;
}

const NSG_REASON =
  'NSG is not accepted: FAISS 1.7.3 builds the NSG graph in a loop that runs at 100% CPU, allocating ' +
  'without bound, for small R (NSG0, NSG2), and no safe range is established; use HNSW<M> instead';

function refine(part: string): Component | undefined {
  if (part === 'RFlat') return { kind: 'codes', text: part, minTrain: 0 };
  const m = /^Refine\((.*)\)$/.exec(part);
  if (!m) return undefined;
  const inner = codes(m[1]!.trim(), 'refine');
  if (!inner) throw new Refusal(`${part}: the refine stage takes Flat, SQ4/SQ6/SQ8/SQfp16 or PQ<m>[x<b>]`);
  return { ...inner, text: part };
}

/** Reads the main index: what follows the transforms, and the refine stage after it. */
function mainIndex(parts: string[]): Component[] {
  const [first, ...rest] = parts;
  if (first === undefined || first === '') throw new Refusal('no index after the transforms');
  if (/^NSG\d*/.test(first) || /_NSG\d*$/.test(first)) throw new Refusal(`${first}: ${NSG_REASON}`);
  const out: Component[] = [];
  let m: RegExpExecArray | null;
  if ((m = /^HNSW(\d+)(?:_(.+))?$/.exec(first))) {
    count(m[1]!, `${first}: links per node (M)`, 2, MAX_HNSW_M, HNSW_M_WHY);
    out.push({ kind: 'quantizer', text: first, minTrain: 0 });
    const storageText = m[2] ?? (rest[0] !== undefined && !isRefine(rest[0]) ? rest.shift() : undefined);
    if (storageText !== undefined) {
      const storage = codes(storageText, 'hnsw');
      if (!storage)
        throw new Refusal(`${storageText}: HNSW storage is Flat, SQ4/SQ6/SQ8/SQfp16 or PQ<m>[x<b>]`);
      out.push(storage);
    }
  } else {
    const coarse = quantizer(first);
    if (coarse) {
      const encoding = rest.shift();
      if (encoding === undefined)
        throw new Refusal(`${first} needs an encoding after it, e.g. ${first},Flat`);
      const c = codes(encoding, 'ivf');
      if (!c) {
        throw new Refusal(
          `${encoding}: after ${first} comes Flat, PQ<m>[x<b>][fs|fsr|np], SQ4/SQ6/SQ8/SQfp16, or RQ<m>x<b>`,
        );
      }
      out.push(coarse, c);
    } else {
      const alone = codes(first, 'alone');
      if (!alone) throw new Refusal(`${first}: not a component indexctl accepts`);
      out.push(alone);
    }
  }
  const last = rest.shift();
  if (last !== undefined) {
    const r = refine(last);
    if (!r) throw new Refusal(`${last}: only a refine stage (RFlat or Refine(...)) may follow the index`);
    out.push(r);
  }
  if (rest.length > 0) throw new Refusal(`unexpected ${rest.join(',')} after the refine stage`);
  return out;
}

function isRefine(part: string): boolean {
  return part === 'RFlat' || part.startsWith('Refine(');
}

/**
 * Checks the grammar and the parameters that are wrong whatever the data (UsageError, exit 2).
 * `factory` is the inner string (no `IDMap2,`).
 */
export function parseFactory(factory: string, flag = '--factory'): FactoryShape {
  try {
    if (factory.trim() === '') throw new Refusal('empty');
    const parts = splitComponents(factory);
    const components: Component[] = [];
    while (parts.length > 0) {
      const t = transform(parts[0]!);
      if (!t) break;
      components.push(t);
      parts.shift();
    }
    components.push(...mainIndex(parts));
    const minTrainVectors = Math.max(0, ...components.map((c) => c.minTrain));
    return { factory, components, minTrainVectors };
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    throw new UsageError(
      `${flag} ${JSON.stringify(factory)}: ${err.message} (accepted grammar: docs/format.md "Factory strings")`,
    );
  }
}

/**
 * Checks what depends on the data's dimension (BadInputError, exit 5): PQ sub-quantizers dividing
 * the dimension they see, transform outputs no wider than their input, padding no narrower.
 */
export function checkFactoryForDim(shape: FactoryShape, dim: number, file: string): void {
  let d = dim;
  const refuse = (why: string): never => {
    throw new BadInputError(
      `${file}: vectors of dimension ${dim} cannot be indexed by ${shape.factory}: ${why}`,
    );
  };
  for (const c of shape.components) {
    if (c.kind === 'transform') {
      if (c.pad) {
        if (c.dOut! < d) refuse(`${c.text} pads to ${c.dOut}, fewer than the ${d} dimensions it gets`);
      } else if (c.dOut !== undefined && c.dOut > d && !c.text.startsWith('RR')) {
        refuse(`${c.text} outputs ${c.dOut} dimensions, more than the ${d} it gets`);
      }
      const out = c.dOut ?? d;
      if (c.pqM !== undefined && out % c.pqM !== 0) {
        refuse(`${c.text}: ${c.pqM} sub-quantizers do not divide the dimension ${out}`);
      }
      d = out;
    } else if (c.kind === 'quantizer') {
      if (c.splits !== undefined && d % c.splits !== 0) {
        refuse(`${c.text}: ${c.splits} sub-quantizers do not divide the dimension ${d}`);
      }
    } else {
      if (c.pqM !== undefined && d % c.pqM !== 0) {
        refuse(`${c.text}: ${c.pqM} sub-quantizers do not divide the dimension ${d}`);
      }
      if (c.splitsD !== undefined && d % c.splitsD !== 0) {
        refuse(`${c.text}: ${c.splitsD} splits do not divide the dimension ${d}`);
      }
    }
  }
}

/**
 * FAISS's message without its C++ location: "Error in void faiss::X::f() at /path/X.cpp:59: Error:
 * 'd % M == 0' failed: ..." -> "'d % M == 0' failed: ...".
 */
export function faissReason(message: string): string {
  return message
    .replace(/Error in [^\n]*? at \S+?:\d+: (Error: )?/g, '')
    .replace(/\s+/g, ' ')
    .trim();
}
