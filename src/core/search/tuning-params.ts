/**
 * The manifest's `tuning` as FAISS search parameters. The named fields (`nprobe`, `hnsw_efSearch`,
 * `refine_k_factor`) are the upstream contract a Python reader also applies; `params` (written by
 * `indexctl tune`) holds the whole measured setting, so knobs without a named field
 * (`quantizer_efSearch`, ...) are applied too. Where both name a knob, the named field wins: it is
 * what another tool would edit.
 */
import { InvariantViolationError } from '../errors.js';
import type { FaissIndex } from '../faiss/index.js';
import type { ManifestTuning } from '../manifest/schema.js';

/** Manifest field -> ParameterSpace name. */
const NAMED_FIELDS = [
  ['nprobe', 'nprobe'],
  ['hnsw_efSearch', 'efSearch'],
  ['refine_k_factor', 'k_factor_rf'],
] as const;

const PARAM = /^([A-Za-z_]+)=(-?[0-9.]+(?:e[-+]?[0-9]+)?)$/;

/** `"nprobe=16,k_factor_rf=4"` -> entries; anything unparseable is a damaged manifest. */
export function parseParameterString(spec: string, where = 'parameters'): [string, number][] {
  if (spec.trim() === '') return [];
  return spec.split(',').map((part) => {
    const m = PARAM.exec(part.trim());
    if (!m || !Number.isFinite(Number(m[2]))) {
      throw new InvariantViolationError(`${where}: ${JSON.stringify(part)} is not name=number`);
    }
    return [m[1]!, Number(m[2])];
  });
}

/** The ParameterSpace settings a tuning stands for, in a stable order; empty when it sets nothing. */
export function tuningParameters(tuning: ManifestTuning | null | undefined): [string, number][] {
  if (!tuning) return [];
  const out = new Map<string, number>();
  const extra = (tuning as Record<string, unknown>).params;
  if (typeof extra === 'string') {
    for (const [name, value] of parseParameterString(extra, 'manifest tuning.params')) out.set(name, value);
  }
  for (const [field, name] of NAMED_FIELDS) {
    const value = tuning[field];
    if (value !== null && value !== undefined) out.set(name, value);
  }
  const named: string[] = NAMED_FIELDS.map(([, name]) => name);
  return [...out].sort(([a], [b]) => {
    const ia = named.indexOf(a);
    const ib = named.indexOf(b);
    return (ia < 0 ? named.length : ia) - (ib < 0 ? named.length : ib) || a.localeCompare(b);
  });
}

export function parameterSpec(entries: readonly (readonly [string, number])[]): string {
  return entries.map(([name, value]) => `${name}=${value}`).join(',');
}

/**
 * Sets the tuning's parameters on the index and returns the spec applied ('' when none). A knob the
 * index does not have (efSearch on an IVF index) means the manifest and the index disagree.
 */
export function applyTuning(
  index: FaissIndex,
  tuning: ManifestTuning | null | undefined,
  where: string,
): string {
  const spec = parameterSpec(tuningParameters(tuning));
  if (spec === '') return spec;
  try {
    index.setParameters(spec);
  } catch (err) {
    throw new InvariantViolationError(
      `${where}: the manifest's tuning (${spec}) does not apply to ${index.className}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  return spec;
}
