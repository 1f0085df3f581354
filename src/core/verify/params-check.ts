/**
 * `index.params`: the manifest's tuning against the search parameters of the index.
 *
 * faiss.index is immutable and `tune --write` rewrites only manifest.json, so a tuned version's index
 * keeps the parameters it was written with (nprobe=1, efSearch=16, ...) and every reader applies the
 * tuning when it loads the index. What must agree is therefore that the tuning fits this index: it
 * is for this index's family, each knob it sets is one this index has, and FAISS accepts the values
 * (they are applied in the probe and read back, so smoke.1nn then searches with them). The stored
 * values are reported, not required to equal the tuning. The knobs are the ones search applies
 * (search/tuning-params.ts): the named fields and tune's `params`.
 */
import { FaissError } from '../errors.js';
import { familyFromFactory, type Manifest } from '../manifest/schema.js';
import { parameterSpec, tuningParameters } from '../search/tuning-params.js';
import { ProbeCrash, type IndexProbe } from './probe-client.js';
import type { IndexFacts } from './probe-protocol.js';
import { Check, type CheckResult } from './types.js';

export function formatParameters(params: Record<string, number>): string {
  const entries = Object.entries(params);
  return entries.length === 0 ? 'no search parameters' : entries.map(([k, v]) => `${k}=${v}`).join(', ');
}

export interface ParamsOutcome {
  result: CheckResult;
  /** The tuning is in effect in the probe (searches use it). */
  applied: boolean;
}

export async function checkParams(
  manifest: Manifest,
  facts: IndexFacts,
  probe: IndexProbe,
): Promise<ParamsOutcome> {
  const check = new Check('index.params');
  const stored = facts.parameters;
  const tuning = manifest.tuning;
  if (!tuning) {
    return {
      applied: false,
      result: check.pass(`no tuning recorded; index holds ${formatParameters(stored)}`),
    };
  }
  const problems: string[] = [];
  const family = familyFromFactory(manifest.faiss_factory);
  if (tuning.family !== family) {
    problems.push(`tuning is for family ${tuning.family}, but ${manifest.faiss_factory} is ${family}`);
  }
  let knobs: { name: string; value: number }[];
  try {
    knobs = tuningParameters(tuning).map(([name, value]) => ({ name, value }));
  } catch (err) {
    return { applied: false, result: check.failWith(err) };
  }
  for (const { name, value } of knobs) {
    if (!(name in stored)) {
      problems.push(
        `tuning sets ${name}=${value}, but ${facts.className} has no ${name} (it has ${formatParameters(stored)})`,
      );
    }
  }
  if (problems.length > 0) return { applied: false, result: check.fail(problems.join('; '), 3) };
  if (knobs.length === 0) {
    return {
      applied: false,
      result: check.pass(
        `tuning (${tuning.family}) sets no parameters; index holds ${formatParameters(stored)}`,
      ),
    };
  }
  const spec = parameterSpec(knobs.map(({ name, value }) => [name, value] as const));
  let after: Record<string, number>;
  try {
    after = (await probe.setParameters(spec)).after;
  } catch (err) {
    if (err instanceof FaissError) {
      return { applied: false, result: check.fail(`FAISS refuses the tuning ${spec}: ${err.message}`, 3) };
    }
    if (err instanceof ProbeCrash) {
      return {
        applied: false,
        result: check.fail(`faiss.index crashed FAISS while applying ${spec} (${err.message})`, 4),
      };
    }
    throw err;
  }
  const unapplied = knobs.filter(
    ({ name, value }) => Math.abs((after[name] ?? NaN) - value) > 1e-6 * Math.max(1, value),
  );
  if (unapplied.length > 0) {
    return {
      applied: false,
      result: check.fail(
        `setting ${spec} left ${unapplied.map(({ name }) => `${name}=${after[name]}`).join(', ')}`,
        3,
      ),
    };
  }
  const storedKnobs = formatParameters(Object.fromEntries(knobs.map(({ name }) => [name, stored[name]!])));
  return {
    applied: true,
    result: check.pass(
      `tuning ${spec} applies (the index file holds ${storedKnobs}; readers apply the tuning at load)`,
    ),
  };
}
