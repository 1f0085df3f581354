/**
 * The CLI makes OpenMP's threads wait passively unless the operator chose a policy
 * (src/cli/openmp-env.ts). libgomp itself reports what it read: OMP_DISPLAY_ENV=verbose makes it
 * print its settings to stderr when the addon loads it, so these tests see what FAISS runs with.
 * The spin count tells the policies apart (libgomp prints PASSIVE for an unset policy too, whose
 * threads spin 300,000 times before sleeping; a passive one spins 0).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';

import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-openmp-');
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: 64, dim: 8 });

/** What libgomp printed while `indexctl train` ran (its addon loads libgomp). */
function policySeen(policy: string | undefined, out: string): { policy: string; spin: string } {
  const res = runCli(['train', '--chunks', chunks, '--factory', 'Flat', '--out', path.join(dir, out)], {
    env: { OMP_DISPLAY_ENV: 'verbose', OMP_WAIT_POLICY: policy },
  });
  assert.equal(res.code, 0, res.stderr);
  const seen = [...res.stderr.matchAll(/OMP_WAIT_POLICY = '(\w+)'/g)].map((m) => m[1]);
  assert.ok(seen.length > 0, `libgomp printed its settings:\n${res.stderr}`);
  assert.equal(new Set(seen).size, 1, `one policy in every process: ${seen.join(', ')}`);
  const spin = /GOMP_SPINCOUNT = '(\d+)'/.exec(res.stderr)?.[1];
  assert.ok(spin !== undefined, `libgomp printed its spin count:\n${res.stderr}`);
  return { policy: seen[0]!, spin };
}

test('the CLI runs OpenMP with passive waits when the operator set no policy', () => {
  assert.deepEqual(policySeen(undefined, 'unset.faiss'), { policy: 'PASSIVE', spin: '0' });
  assert.deepEqual(policySeen('', 'empty.faiss'), { policy: 'PASSIVE', spin: '0' });
});

test("an operator's OMP_WAIT_POLICY stands", () => {
  const active = policySeen('ACTIVE', 'active.faiss');
  assert.equal(active.policy, 'ACTIVE');
  assert.notEqual(active.spin, '0');
});
