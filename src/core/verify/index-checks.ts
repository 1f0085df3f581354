/**
 * The index.* checks: facts the probe gathered from faiss.index, on their own (index.structure) and
 * against the manifest. The index is only ever read in the probe process (probe-client.ts), after
 * its checksum passed.
 */
import { FaissError } from '../errors.js';
import type { Manifest } from '../manifest/schema.js';
import { ProbeCrash, ProbeMemoryExceeded, ProbeTimeout } from './probe-client.js';
import type { IndexFacts } from './probe-protocol.js';
import { Check, type CheckResult } from './types.js';

/** `index.load` from the outcome of the probe's read: a crash or a FAISS refusal is corruption. */
export function loadResult(
  file: string,
  ms: number,
  outcome: { facts?: IndexFacts; error?: unknown },
): CheckResult {
  const check = new Check('index.load', undefined, ms);
  if (outcome.facts) {
    const f = outcome.facts;
    return check.pass(
      `${f.className}, ${f.ntotal} x ${f.d}, metric ${f.metric}; read in ${Math.round(f.readMs)} ms`,
    );
  }
  const err = outcome.error;
  if (err instanceof ProbeTimeout)
    return check.fail(`${file}: FAISS did not finish reading it (${err.message})`, 4);
  if (err instanceof ProbeMemoryExceeded)
    return check.fail(`${file}: FAISS's read went over the probe's memory bound (${err.message})`, 4);
  if (err instanceof ProbeCrash) return check.fail(`${file} crashed the FAISS reader (${err.message})`, 4);
  if (err instanceof FaissError) return check.fail(`${file}: FAISS cannot read it: ${err.message}`, 4);
  throw err;
}

/**
 * `index.structure`: the probe's walk of the loaded index (FaissIndex.checkStructure). read_index
 * accepts a graph link or a list id far outside its arrays, and the first search that follows it
 * crashes; a file that fails here is damaged (4), whatever its checksum says.
 */
export function checkStructure(facts: IndexFacts): CheckResult {
  const s = facts.structure;
  const check = new Check('index.structure', undefined, s.ms);
  return s.ok
    ? check.pass(s.checked.join('; '))
    : check.fail(`faiss.index is structurally damaged: ${s.firstProblem ?? 'no detail'}`, 4);
}

export function checkDim(facts: IndexFacts, manifest: Manifest): CheckResult {
  const check = new Check('index.dim');
  return facts.d === manifest.vec_dim
    ? check.pass(`d = ${facts.d} = manifest vec_dim`)
    : check.fail(`faiss.index has d = ${facts.d}, manifest vec_dim is ${manifest.vec_dim}`, 3);
}

/** `index.metric`: cosine and ip are both inner-product indexes; l2 is L2. */
export function checkMetric(facts: IndexFacts, manifest: Manifest): CheckResult {
  const check = new Check('index.metric');
  const expected = manifest.metric === 'l2' ? 'l2' : 'ip';
  return facts.metric === expected
    ? check.pass(`${facts.metric} (manifest metric ${manifest.metric})`)
    : check.fail(
        `faiss.index uses metric ${facts.metric}, manifest metric ${manifest.metric} needs ${expected}`,
        3,
      );
}

export function checkCount(facts: IndexFacts, manifest: Manifest): CheckResult {
  const check = new Check('index.count');
  return facts.ntotal === manifest.vectors_count
    ? check.pass(`ntotal = ${facts.ntotal} = manifest vectors_count`)
    : check.fail(
        `faiss.index holds ${facts.ntotal} vectors, manifest vectors_count is ${manifest.vectors_count}`,
        3,
      );
}

export function checkIdMap2(facts: IndexFacts): CheckResult {
  const check = new Check('index.idmap2');
  return facts.className.startsWith('IndexIDMap2<')
    ? check.pass(facts.className)
    : check.fail(
        `faiss.index is ${facts.className}, not an IndexIDMap2: its rows carry no retrievable external ids`,
        3,
      );
}

/** `index.consistency`: IndexIDMap2::check_consistency (id_map and rev_map agree: no duplicate ids). */
export function checkConsistency(facts: IndexFacts): CheckResult {
  const check = new Check('index.consistency');
  const c = facts.consistency;
  if (c === null) return check.skip(`${facts.className} is not an IndexIDMap2 (see index.idmap2)`);
  return c.ok
    ? check.pass(`id_map and rev_map agree (${facts.ntotal} ids)`)
    : check.fail(`faiss.index: IndexIDMap2 check_consistency failed: ${c.message}`, 3);
}
