/**
 * The shards on an existing job engine: a private single-node Slurm cluster (Debian's munged,
 * slurmctld, slurmd; test/helpers/slurm-cluster.ts) runs docs/scaling.md's Slurm block as written:
 * `srun indexctl train`, `sbatch --wait --array` of scripts/slurm/shard-array.sbatch, `srun merge`,
 * `srun publish`. The published version equals `build --trained` of the same input and passes
 * verify. An array task that fails stops the block at `sbatch --wait` (its exit code); one cancelled
 * while pending is not seen by `sbatch --wait`, and the merge refuses the incomplete set (exit 3):
 * nothing is published either way. The job script's own argument checks run without Slurm. The
 * cluster is always stopped, and no process of it is left.
 *
 * Without the Slurm packages the cluster tests fail when CI is set and are skipped with the reason
 * otherwise; without root they are skipped with that reason.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

import { FaissIndex } from '../src/core/faiss/index.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { packageRoot } from '../src/core/util/paths.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { docShellBlock, indexctlBinDir, runShellBlock } from './helpers/doc-blocks.js';
import { notRoot, slurmMissing, startSlurmCluster, type SlurmCluster } from './helpers/slurm-cluster.js';
import { tmpDir } from './helpers/tmp.js';

// Missing packages fail CI (scripts/setup.sh --test installs them) and skip elsewhere, as
// scripts/clang-format-check.js treats clang-format; not being root skips everywhere.
const missing = slurmMissing();
if (missing && process.env.CI) {
  throw new Error(`test/slurm.test.ts: ${missing} (CI is set, so this fails rather than skips)`);
}
const unavailable = missing ?? notRoot();

const DIM = 16;
// 8192 rows in 4 row groups of 2048 (DuckDB's smallest): each of 4 shards holds one row group.
const ROWS = 8192;
const N = 4;
const block = docShellBlock('scaling.md', '## On Slurm');
// At file level: its removal then runs after the describe's hook that stops the cluster.
const dir = tmpDir('indexctl-slurm-');

describe('Slurm: train, sbatch --array of shard builds, merge, publish', { skip: unavailable }, () => {
  const chunks = path.join(dir, 'chunks.parquet');
  let cluster: SlurmCluster | undefined;
  let binDir = '';

  before(async () => {
    await writeChunks(chunks, { rows: ROWS, dim: DIM, rowGroupSize: 2048 });
    binDir = indexctlBinDir(dir);
    cluster = await startSlurmCluster(dir);
  });

  after(async () => {
    if (!cluster) return;
    await cluster.stop();
    assert.deepEqual(cluster.leftovers(), [], 'no munged, slurmctld, slurmd or job step is left');
  });

  /** The doc's block in the repo root (it names scripts/slurm/shard-array.sbatch relatively). */
  const runFlow = (name: string, env: NodeJS.ProcessEnv = {}) => {
    const work = path.join(dir, name);
    const root = path.join(work, 'root');
    const vars = {
      CHUNKS: chunks,
      WORK: work,
      ROOT: root,
      FACTORY: 'IVF16,PQ4x4',
      N: String(N),
      VERSION: name,
    };
    const run = runShellBlock(block, { cwd: packageRoot, binDir, vars, env: { ...cluster!.env, ...env } });
    return { work, root, run };
  };

  it('publishes a version equal to build --trained of the same input, which passes verify', async () => {
    const { work, root, run } = runFlow('slurm-v1');
    const res = await run;
    assert.equal(res.code, 0, `the doc's Slurm block: exit ${res.code}\n${res.stderr}`);

    // Every shard ran as an array task of the job script, each with its own log.
    const logs = readdirSync(path.join(work, 'logs')).filter((f) => /^shard-\d+_\d\.out$/.test(f));
    assert.equal(logs.length, N, `one log per array task: ${logs.join(', ')}`);
    for (let i = 0; i < N; i++) {
      const shard = JSON.parse(readFileSync(path.join(work, 'shards', `shard-${i}`, 'shard.json'), 'utf8'));
      assert.equal(`${shard.shard}/${shard.shards}`, `${i}/${N}`);
      assert.deepEqual(shard.inputs[0].row_groups, [i]);
    }

    assert.equal(readlinkSync(path.join(root, 'CURRENT')), 'versions/slurm-v1');
    const verify = runCli(['--root', root, 'verify', '--current', '--level', '3']);
    assert.equal(verify.code, 0, verify.stderr);

    const single = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      chunks,
      '--trained',
      path.join(work, 'trained.faiss'),
      '--version',
      'single',
    ]);
    assert.equal(single.code, 0, single.stderr);
    const merged = path.join(root, 'versions', 'slurm-v1');
    const reference = path.join(root, 'versions', 'single');
    const idsOf = async (v: string) =>
      [...(await readIdMap(path.join(v, 'idmap.parquet'))).externalId].sort();
    const mergedIds = await idsOf(merged);
    assert.equal(mergedIds.length, ROWS);
    assert.deepEqual(mergedIds, await idsOf(reference));

    const all = await readAllChunks(chunks);
    const a = FaissIndex.read(path.join(merged, 'faiss.index'));
    const b = FaissIndex.read(path.join(reference, 'faiss.index'));
    try {
      for (const row of [0, 5, 2047, 2048, 4500, 6144, ROWS - 1]) {
        const q = all.vectors.slice(row * DIM, (row + 1) * DIM).map((x, j) => x + (j % 2 ? 0.01 : -0.01));
        const [ra, rb] = [a.search(q, 10), b.search(q, 10)];
        assert.deepEqual([...ra.labels], [...rb.labels], `neighbours of row ${row}`);
        assert.deepEqual([...ra.distances], [...rb.distances], `distances of row ${row}`);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('an array task that fails: sbatch --wait returns its exit code, the block stops before the merge', async () => {
    const { work, root, run } = runFlow('slurm-failed');
    // Shard 2's directory holds someone else's file: its build refuses it (exit 2).
    mkdirSync(path.join(work, 'shards', 'shard-2'), { recursive: true });
    writeFileSync(path.join(work, 'shards', 'shard-2', 'notes.txt'), 'keep me');
    const res = await run;

    assert.equal(res.code, 2, `sbatch --wait: the highest task exit code\n${res.stderr}`);
    const log = readdirSync(path.join(work, 'logs')).find((f) => /^shard-\d+_2\.out$/.test(f));
    assert.ok(log, 'array task 2 ran and logged');
    assert.match(
      readFileSync(path.join(work, 'logs', log), 'utf8'),
      /shard-2: not empty and not a shard directory \(has notes\.txt\)/,
    );
    for (const i of [0, 1, 3]) assert.ok(existsSync(path.join(work, 'shards', `shard-${i}`, 'shard.json')));
    assert.equal(existsSync(root), false, 'no merge or publish ran');
  });

  it('an array task cancelled before it ran: sbatch --wait says 0, the merge refuses (exit 3), nothing published', async () => {
    // The block's array goes to a partition that is down (SBATCH_PARTITION reaches sbatch only, not
    // the sruns), so task 2 can be cancelled before any task runs; then the partition comes up.
    const host = cluster!.client('sinfo', ['-h', '-N', '-o', '%N']).trim();
    cluster!.client('scontrol', ['create', `PartitionName=held`, `Nodes=${host}`, 'State=DOWN']);
    const { work, root, run } = runFlow('slurm-cancelled', { SBATCH_PARTITION: 'held' });
    const arrayJob = await pendingArray(cluster!, run);
    // The unattended variant: a merge job chained with afterok never runs; Slurm cancels it.
    const marker = path.join(work, 'chained-merge-ran');
    const chained = cluster!
      .client('sbatch', [
        '--parsable',
        `--dependency=afterok:${arrayJob}`,
        '--kill-on-invalid-dep=yes',
        '--output=/dev/null',
        '--wrap',
        `touch ${marker}`,
      ])
      .trim();
    // Watched from now on: slurmctld forgets a finished job MinJobAge (16 s) later.
    const chainedEnd = leftQueue(cluster!, chained);
    cluster!.client('scancel', [`${arrayJob}_2`]);
    cluster!.client('scontrol', ['update', 'PartitionName=held', 'State=UP']);
    const res = await run;

    assert.equal(res.code, 3, `the block stops at the merge: exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, /shard 2\/4 missing: 3 of 4 given \(.*shard-0, .*shard-1, .*shard-3\)/);
    assert.deepEqual(readdirSync(path.join(work, 'shards')).sort(), ['shard-0', 'shard-1', 'shard-3']);
    // Tasks 0, 1 and 3 ran (each logged); task 2 never started. (Not asked of slurmctld: it forgets
    // finished tasks MinJobAge after they end, and a task cancelled while pending at once.)
    const logs = readdirSync(path.join(work, 'logs')).filter((f) => f.startsWith('shard-'));
    assert.deepEqual(logs.map((f) => f.replace(/^shard-\d+_/, '')).sort(), ['0.out', '1.out', '3.out']);
    assert.throws(() => lstatSync(path.join(root, 'CURRENT')), { code: 'ENOENT' }, 'nothing published');
    for (const sub of ['versions', 'staging']) {
      const entries = existsSync(path.join(root, sub)) ? readdirSync(path.join(root, sub)) : [];
      assert.deepEqual(entries, [], `${sub}/ is empty`);
    }
    assert.equal(await chainedEnd, 'CANCELLED');
    assert.equal(existsSync(marker), false, 'the chained merge job never ran');
  });
});

/** Polls until job `id` has left the queue; its final state, or "purged" once slurmctld forgot it. */
async function leftQueue(cluster: SlurmCluster, id: string): Promise<string> {
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline) {
    const res = spawnSync('squeue', ['-h', '-j', id, '-t', 'all', '-o', '%T'], {
      encoding: 'utf8',
      env: cluster.env,
    });
    const state = res.status === 0 ? res.stdout.trim() : 'purged';
    if (!['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING'].includes(state)) return state;
    await sleep(200);
  }
  throw new Error(`job ${id} still queued after 300 s`);
}

describe('scripts/slurm/shard-array.sbatch outside Slurm: its argument checks', () => {
  const script = path.join(packageRoot, 'scripts/slurm/shard-array.sbatch');
  const runScript = (args: string[], taskId?: string) => {
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${indexctlBinDir(dir)}:${process.env.PATH}` };
    delete env.SLURM_ARRAY_TASK_ID;
    if (taskId !== undefined) env.SLURM_ARRAY_TASK_ID = taskId;
    return spawnSync('bash', [script, ...args], { encoding: 'utf8', env });
  };

  it('refuses a wrong argument count, a bad N, a task outside 0..N-1 and a run outside an array (exit 2)', () => {
    const refused = (res: ReturnType<typeof runScript>, message: RegExp) => {
      assert.equal(res.status, 2, res.stderr);
      assert.match(res.stderr, message);
    };
    refused(
      runScript(['a', 'b', 'c'], '0'),
      /usage: sbatch --array=0-\$\(\(N - 1\)\) .* \(got 3 arguments\)/,
    );
    refused(runScript(['a', 'b', 'c', 'four'], '0'), /N=four: want the number of shards, a positive integer/);
    refused(runScript(['a', 'b', 'c', '4'], '4'), /array task 4 is not a shard of N=4 \(want --array=0-3\)/);
    const outside = runScript(['a', 'b', 'c', '4']);
    assert.notEqual(outside.status, 0);
    assert.match(outside.stderr, /not an array task: submit with sbatch --array=0-3/);
  });

  it('task I builds shard I/N into SHARD_ROOT/shard-I', async () => {
    const chunks = path.join(dir, 'script-chunks.parquet');
    await writeChunks(chunks, { rows: 4096, dim: DIM, rowGroupSize: 2048 });
    const trained = path.join(dir, 'script-trained.faiss');
    const train = runCli(['train', '--chunks', chunks, '--factory', 'Flat', '--out', trained]);
    assert.equal(train.code, 0, train.stderr);
    const res = runScript([chunks, trained, path.join(dir, 'script-shards'), '2'], '1');
    assert.equal(res.status, 0, res.stderr);
    const shard = JSON.parse(readFileSync(path.join(dir, 'script-shards', 'shard-1', 'shard.json'), 'utf8'));
    assert.equal(`${shard.shard}/${shard.shards}`, '1/2');
    assert.deepEqual(shard.inputs[0].row_groups, [1]);
  });
});

/** Waits (while `run` goes on) until the block's shard array is queued in the down partition. */
async function pendingArray(cluster: SlurmCluster, run: Promise<CliResult>): Promise<string> {
  let ended: CliResult | undefined;
  void run.then((res) => (ended = res));
  const deadline = Date.now() + 300_000;
  while (Date.now() < deadline && !ended) {
    const out = cluster.client('squeue', ['-h', '-n', 'indexctl-shard', '-p', 'held', '-o', '%F']);
    const id = out.trim().split('\n')[0];
    if (id) return id;
    await sleep(200);
  }
  throw new Error(
    ended
      ? `the block ended (exit ${ended.code}) before its shard array was queued:\n${ended.stderr}`
      : 'no shard array queued in 300 s',
  );
}
