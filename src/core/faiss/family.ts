/**
 * The index family of a FAISS factory string: which search-time knobs apply (nprobe for IVF,
 * efSearch for HNSW, k_factor for a refine stage). Parsing is lexical, so it needs no FAISS.
 */

/** The families a manifest's tuning records (docs/spec.md "manifest.json"; the upstream Python VersionManifest knows these). */
export const TUNING_FAMILIES = ['flat', 'ivf_flat', 'ivf_pq', 'hnsw', 'ivf_pq_refine'] as const;
export type TuningFamily = (typeof TUNING_FAMILIES)[number];
/** ... and `other` for anything else FAISS builds, which indexctl measures but does not record. */
export const INDEX_FAMILIES = [...TUNING_FAMILIES, 'other'] as const;
export type IndexFamily = (typeof INDEX_FAMILIES)[number];

/**
 * Splits a factory string on commas outside parentheses: `IVF1024,PQ8,Refine(OPQ8,PQ8)` has three
 * components. `unbalanced` describes a parenthesis without its pair (the validator refuses that
 * string; family detection just reads what it can).
 */
export function splitFactoryComponents(factory: string): { parts: string[]; unbalanced: string | null } {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < factory.length; i++) {
    const c = factory[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (depth < 0) return { parts, unbalanced: `unbalanced ")" at character ${i + 1}` };
    if (c === ',' && depth === 0) {
      parts.push(factory.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(factory.slice(start).trim());
  return { parts, unbalanced: depth !== 0 ? 'unbalanced "("' : null };
}

// Wrappers and vector transforms in front of the index do not change which knobs apply.
const WRAPPER = /^IDMap2?$/;
const TRANSFORM = /^(OPQ\d+(_\d+)?|PCAW?R?\d+|L2norm|RR\d+|ITQ\d*(_\d+)?|Pad\d+)$/;
const FLAT = /^Flat$/;
const HNSW = /^HNSW\d+(_.+)?$/;
// IVF coarse quantizers: IVF1024, IVF1024_HNSW32, IMI2x10.
const IVF = /^(IVF\d+(_HNSW\d+)?|IMI\d+x\d+)$/;
const PQ = /^PQ\d+(x\d+)?(fs|fsr|np)?$/;
const REFINE = /^(RFlat|Refine\(.*\))$/;

/**
 * `flat`, `ivf_flat`, `ivf_pq`, `hnsw` or `ivf_pq_refine`; `other` for anything else FAISS can
 * build (LSH, scalar quantizers, NSG...), for which only the defaults are tuned.
 * Examples: "Flat" -> flat, "IDMap2,HNSW32,Flat" -> hnsw, "IVF1024,PQ48np" -> ivf_pq,
 * "OPQ48,IVF1024_HNSW32,PQ48,RFlat" -> ivf_pq_refine.
 */
export function familyFromFactory(factory: string): IndexFamily {
  const parts = splitFactoryComponents(factory).parts.filter((p) => !WRAPPER.test(p) && !TRANSFORM.test(p));
  const [first, second, third, ...rest] = parts;
  if (first === undefined || rest.length > 0) return 'other';
  if (FLAT.test(first)) return second === undefined ? 'flat' : 'other';
  // The storage after HNSW (Flat, PQ, SQ) changes memory, not the efSearch knob.
  if (HNSW.test(first)) return third === undefined ? 'hnsw' : 'other';
  if (IVF.test(first) && second !== undefined) {
    if (FLAT.test(second)) return third === undefined ? 'ivf_flat' : 'other';
    if (PQ.test(second)) {
      if (third === undefined) return 'ivf_pq';
      return REFINE.test(third) ? 'ivf_pq_refine' : 'other';
    }
  }
  return 'other';
}
