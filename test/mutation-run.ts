/**
 * The long mutation campaign and single-mutant replay (docs/robustness.md):
 *
 *   node dist/test/mutation-run.js --mutants 2000 --seed 7 --report mutation-report.json
 *   node dist/test/mutation-run.js --replay hnsw:faiss.index:123456   # keeps the mutant, prints its path
 *
 * Exits 1 when a mutant broke an invariant, unless --summary (print the counts and the findings and
 * exit 0: for campaigns on code known to fail). The JSON report lists every mutant.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { MUTATED_FILES, type MutatedFile } from './helpers/mutate.js';
import {
  buildMutationFixture,
  describeViolation,
  formatSummary,
  MUTATION_FAMILIES,
  runCampaign,
  runMutant,
  type MutationFamily,
} from './helpers/mutation-campaign.js';

const { values } = parseArgs({
  options: {
    mutants: { type: 'string', default: '600' },
    seed: { type: 'string', default: '1' },
    report: { type: 'string', default: 'mutation-report.json' },
    summary: { type: 'boolean', default: false },
    replay: { type: 'string' },
    bound: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '2' },
    families: { type: 'string' },
  },
});

function int(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`--${name} must be a non-negative integer, got ${value}`);
  return n;
}

function family(name: string): MutationFamily {
  if (!(name in MUTATION_FAMILIES)) {
    throw new Error(`unknown family ${name}: one of ${Object.keys(MUTATION_FAMILIES).join(', ')}`);
  }
  return name as MutationFamily;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'indexctl-mutation-'));
const boundSeconds = int('bound', values.bound);
try {
  process.stderr.write('building one version per family...\n');
  const fixture = await buildMutationFixture(dir);
  if (values.replay !== undefined) {
    const [fam = '', file = '', seed = ''] = values.replay.split(':');
    if (!(MUTATED_FILES as readonly string[]).includes(file))
      throw new Error(`--replay: unknown file ${file}`);
    const r = await runMutant(
      { fixture, boundSeconds, keep: true },
      family(fam),
      file as MutatedFile,
      int('replay', seed),
    );
    console.log(JSON.stringify(r, null, 2));
    console.log(r.violation ? describeViolation(r) : `no violation (verify exit ${r.verify.code})`);
    console.log(`mutant kept in ${path.join(fixture.root, 'versions')} (remove ${dir} when done)`);
    process.exitCode = r.violation && !values.summary ? 1 : 0;
  } else {
    const report = await runCampaign({
      fixture,
      mutants: int('mutants', values.mutants),
      seed: int('seed', values.seed),
      concurrency: Math.max(1, int('concurrency', values.concurrency)),
      boundSeconds,
      ...(values.families ? { families: values.families.split(',').map(family) } : {}),
      onMutant: (r, done) => {
        if (r.violation) process.stderr.write(`${done}: ${describeViolation(r)}\n`);
        else if (done % 50 === 0) process.stderr.write(`${done} mutants\n`);
      },
    });
    writeFileSync(values.report, JSON.stringify(report, null, 2) + '\n');
    console.log(formatSummary(report));
    console.log(`report: ${values.report}`);
    process.exitCode = report.violations.length > 0 && !values.summary ? 1 : 0;
  }
} finally {
  if (values.replay === undefined) rmSync(dir, { recursive: true, force: true });
}
