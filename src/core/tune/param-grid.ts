/**
 * The settings a sweep visits. By default they come from FAISS's `ParameterSpace::initialize` on the
 * index inside the IDMap wrapper (FaissIndex.parameterRanges), keeping the knobs that trade speed
 * for recall: `nprobe`, `efSearch`, `k_factor_rf`, `quantizer_efSearch`, `quantizer_nprobe`.
 * Polysemous `ht` and `max_codes` are left out unless named in `--params`: `ht` only matters for
 * polysemous codes and would multiply the grid by 17.
 *
 * Settings are visited cheapest first (by the sum of each knob's position in its range), so when the
 * time budget runs out it is the most expensive settings that are cut.
 */
import { FaissError, UsageError } from '../errors.js';
import type { FaissIndex, ParameterRange } from '../faiss/index.js';

export const DEFAULT_KNOBS: readonly string[] = [
  'nprobe',
  'efSearch',
  'k_factor_rf',
  'quantizer_efSearch',
  'quantizer_nprobe',
];

const NAME = /^[A-Za-z_]+$/;

/** `"nprobe=1,4,16,64;efSearch=16,64,256"` -> ranges, values ascending and distinct. */
export function parseParamsOption(spec: string): ParameterRange[] {
  const ranges: ParameterRange[] = [];
  for (const part of spec.split(';').map((p) => p.trim())) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq < 0 ? part : part.slice(0, eq).trim();
    if (eq < 0 || !NAME.test(name)) {
      throw new UsageError(
        `--params: ${JSON.stringify(part)} is not name=v1,v2,... (e.g. "nprobe=1,4,16;efSearch=16,64")`,
      );
    }
    if (ranges.some((r) => r.name === name)) throw new UsageError(`--params: ${name} is given twice`);
    const texts = part
      .slice(eq + 1)
      .split(',')
      .map((v) => v.trim());
    const values = texts.map(Number);
    const badAt = values.findIndex((v, i) => texts[i] === '' || !Number.isFinite(v) || v <= 0);
    if (badAt >= 0) {
      throw new UsageError(
        `--params: ${name} value ${JSON.stringify(texts[badAt])} is not a positive number`,
      );
    }
    ranges.push({ name, values: [...new Set(values)].sort((a, b) => a - b) });
  }
  if (ranges.length === 0) throw new UsageError('--params: no parameters given');
  return ranges;
}

/**
 * The ranges to sweep on this index: the explicit ones (each value checked by setting it, so a knob
 * the index does not have is a usage error naming it), or the default knobs of ParameterSpace.
 */
export function sweepRanges(index: FaissIndex, explicit?: ParameterRange[]): ParameterRange[] {
  if (!explicit) {
    return index.parameterRanges().filter((r) => DEFAULT_KNOBS.includes(r.name) && r.values.length > 0);
  }
  for (const range of explicit) {
    for (const value of range.values) {
      try {
        index.setParameters(`${range.name}=${value}`);
      } catch (err) {
        if (!(err instanceof FaissError)) throw err;
        const known = index.parameterRanges().map((r) => r.name);
        throw new UsageError(
          `--params: ${range.name}=${value} cannot be set on ${index.className}` +
            ` (its ParameterSpace knobs: ${known.join(', ') || 'none'}): ${err.message}`,
          { cause: err },
        );
      }
    }
  }
  return explicit;
}

/** Every combination as positions into the ranges, cheapest first. One empty combination when there are no knobs. */
export function combinations(ranges: readonly ParameterRange[]): number[][] {
  let out: number[][] = [[]];
  for (const range of ranges) {
    const next: number[][] = [];
    for (const prefix of out) for (let i = 0; i < range.values.length; i++) next.push([...prefix, i]);
    out = next;
  }
  const sum = (c: number[]) => c.reduce((a, b) => a + b, 0);
  return out.sort((a, b) => sum(a) - sum(b) || compareLex(a, b));
}

function compareLex(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Whether combination a <= b in every knob. */
export function dominatedBy(a: readonly number[], b: readonly number[]): boolean {
  return a.every((v, i) => v <= b[i]!);
}

export function valuesOf(
  ranges: readonly ParameterRange[],
  positions: readonly number[],
): Record<string, number> {
  return Object.fromEntries(ranges.map((r, i) => [r.name, r.values[positions[i]!]!]));
}

/** `"nprobe=16,k_factor_rf=4"`, '' for no knobs. */
export function specOf(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
}
