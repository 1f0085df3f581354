/**
 * Keep attacking (issue 12): seeded mutants of faiss.index, idmap.parquet and catalog.duckdb of each
 * family (Flat, IVF-Flat, IVF-PQ, HNSW, IVF-PQ with RFlat refine), resealed so the checksums pass.
 * verify must never die by a signal, hang past the bound or exit 1; a mutant it passes must not make
 * search crash, and no mutant it rejects may crash search or openIndex either. The short CI version; the long one is test/mutation-run.ts (docs/robustness.md).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';

import {
  buildMutationFixture,
  describeViolation,
  formatSummary,
  MUTATION_FAMILIES,
  runCampaign,
} from './helpers/mutation-campaign.js';
import { MUTATED_FILES } from './helpers/mutate.js';
import { tmpDir } from './helpers/tmp.js';

/** 4 mutants of each family and file; the seed fixes which. */
const MUTANTS = 4 * Object.keys(MUTATION_FAMILIES).length * MUTATED_FILES.length;
const SEED = 1;

const fixture = await buildMutationFixture(tmpDir('indexctl-mutation-'));

it(`${MUTANTS} seeded mutants (seed ${SEED}): verify exits 0/3/4 in bound, search and openIndex survive every mutant`, async () => {
  const report = await runCampaign({ fixture, mutants: MUTANTS, seed: SEED, concurrency: 2 });
  assert.equal(report.results.length, MUTANTS);
  assert.deepEqual(report.violations.map(describeViolation), [], formatSummary(report));
});
