/**
 * index.structure (issue 12 item 1): a faiss.index whose graph, lists or codes point outside their
 * own arrays loads without complaint, passes every checksum once resealed (write-manifest does
 * exactly that), and crashes the first search that follows the bad number. verify must find it at
 * the default level, as corruption (4) naming the node or list, and must not search it. Each case
 * damages its own copy of a sound version with python3-faiss, then reseals the manifest.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, it } from 'node:test';

import { writeManifest } from '../src/core/adopt/write-manifest.js';
import { build } from '../src/core/build/build.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { verify, type CheckResult, type VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { bin, runCli } from './helpers/cli.js';
import { damageIndex, type Damage, type DamageReport } from './helpers/faiss-damage.js';
import { cloneVersion, reseal } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';

const ROWS = 2000;
const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: ROWS, dim: 16 });
const root = path.join(dir, 'root');
/** One sound version per family the walk must see through. */
const FAMILIES = {
  flat: 'Flat',
  ivf: 'IVF16,Flat',
  ivfpq: 'IVF16,PQ4x4',
  hnsw: 'HNSW16',
  refine: 'IVF16,PQ4x4fs,RFlat',
} as const;
for (const [version, factory] of Object.entries(FAMILIES)) await build({ root, chunks, factory, version });
await adoptHnswSq();
type Family = keyof typeof FAMILIES | 'hnswsq';
/** The fixture's ids: row i holds chunk i * 1000 + 7. */
const idOf = (row: number) => row * 1000 + 7;

/**
 * HNSW with SQ8 storage, written here and adopted with write-manifest as a file from another tool
 * would be: build() does not train HNSW storage that needs training (the factory work's item).
 */
async function adoptHnswSq(): Promise<void> {
  await cloneVersion(root, 'hnsw', 'hnswsq');
  const { vectors, ids } = await readAllChunks(chunks);
  const index = FaissIndex.fromFactory(16, 'HNSW16_SQ8').wrapIdMap2();
  index.train(vectors);
  index.addWithIds(vectors, ids);
  index.write(path.join(root, 'versions', 'hnswsq', 'faiss.index'));
  index.dispose();
  await writeManifest({ root, version: 'hnswsq', factory: 'HNSW16_SQ8' });
}

let copies = 0;
/** A copy of a sound version with `damage` applied to its faiss.index, resealed. */
async function damaged(
  from: Family,
  damage: Damage,
  ...args: number[]
): Promise<{ version: string; change: DamageReport }> {
  const version = `${from}-${++copies}`;
  const vdir = await cloneVersion(root, from, version);
  const change = damageIndex(path.join(vdir, 'faiss.index'), damage, ...args);
  await reseal(vdir);
  return { version, change };
}

function check(report: VerifyReport, name: string): CheckResult {
  const found = report.checks.find((c) => c.name === name);
  assert.ok(found, `no ${name} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
}

/**
 * index.structure fails (4) with `problem`; no check searched the index; level 1 passed. Damage that
 * also makes the serialization's counts disagree (a list one entry short, a short id_map) is caught
 * one step earlier by index.header, before FAISS reads the file: then index.structure is skipped,
 * and the header's finding must be the corruption reported.
 */
function assertStructureFails(report: VerifyReport, problem: string): void {
  const header = report.checks.find((r) => r.name === 'index.header');
  const c = check(report, 'index.structure');
  if (header?.outcome === 'fail') {
    assert.equal(header.exitCode, 4);
    assert.equal(c.outcome, 'skip', c.detail);
  } else {
    assert.equal(c.outcome, 'fail', c.detail);
    assert.equal(c.exitCode, 4);
    assert.equal(c.detail, `faiss.index is structurally damaged: ${problem}`);
  }
  assert.equal(report.exitCode, 4);
  for (const sum of report.checks.filter((r) => r.name === 'files.checksum')) {
    assert.equal(sum.outcome, 'pass', 'resealed: the checksums match the damaged file');
  }
  if (report.level === 3) {
    const smoke = check(report, 'smoke.1nn');
    assert.equal(smoke.outcome, 'skip');
    if (header?.outcome !== 'fail') {
      assert.equal(smoke.detail, 'faiss.index failed index.structure: searching it could crash FAISS');
    }
  }
}

function cliVerify(version: string, ...args: string[]): VerifyReport {
  const res = runCli(['--root', root, 'verify', version, '--json', ...args]);
  assert.equal(res.stderr, '', 'verify reports the damage, it does not crash');
  const report = JSON.parse(res.stdout) as VerifyReport;
  assert.equal(res.code, report.exitCode);
  return report;
}

describe('index.structure: sound versions of every family pass, naming what was walked', () => {
  // The probe reads with IO_FLAG_MMAP: FAISS maps IVF array lists in place as OnDiskInvertedLists.
  const walked: Record<Family, RegExp> = {
    flat: /^IndexIDMap2: id_map 2000, rev_map 2000; IndexFlatL2: 2000 codes x 64 B$/,
    ivf: /IVF quantizer: IndexFlatL2: 16 codes x 64 B; IndexIVFFlat: 16 lists \(OnDiskInvertedLists\), 2000 ids x 64 B$/,
    ivfpq: /IndexIVFPQ: 16 lists \(OnDiskInvertedLists\), 2000 ids x 2 B$/,
    hnsw: /IndexHNSWFlat: 2000 nodes, \d levels, \d+ links, entry point \d+; HNSW storage: IndexFlatL2: 2000 codes x 64 B$/,
    hnswsq: /IndexHNSWSQ: 2000 nodes, .*; HNSW storage: IndexScalarQuantizer: 2000 codes x 16 B$/,
    refine:
      /IndexRefineFlat: base and refine hold 2000; .*refine base: IndexIVFPQFastScan: 16 lists \(BlockInvertedLists\), 2000 ids x 2 B; refine index: IndexFlatL2: 2000 codes x 64 B$/,
  };
  for (const family of [...Object.keys(FAMILIES), 'hnswsq'] as Family[]) {
    it(family, async () => {
      const report = await verify({ root, version: family, level: 3 });
      assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => c.outcome !== 'pass')));
      assert.match(check(report, 'index.structure').detail, walked[family]);
    });
  }
});

describe('index.structure: structural damage that read_index accepts is corruption (4)', () => {
  it('HNSW: a level-0 link of 50,000,000 (the issue): verify names the node; search refuses it', async () => {
    const node = 1234;
    const { version, change } = await damaged('hnsw', 'hnsw_link', node, 7, 50_000_000);
    assert.ok(change.old !== undefined && change.old >= 0, 'slot 7 of node 1234 was a real link');
    // Searching with the node's own vector walks its links: before issue 20 that was SIGSEGV; now
    // search runs the same walk before it searches (test/reader-safety.test.ts covers every reader).
    const search = spawnSync(
      process.execPath,
      [bin, '--root', root, 'search', version, '--id', String(idOf(node)), '--k', '10'],
      { encoding: 'utf8' },
    );
    assert.equal(search.signal, null, search.stderr);
    assert.equal(search.status, 4, search.stderr);
    assert.match(search.stderr, /index\.structure: HNSW node 1234 level 0 link 7 = 50000000/);

    const problem = `HNSW node ${node} level 0 link 7 = 50000000 outside [-1, ${ROWS})`;
    assertStructureFails(cliVerify(version), problem);
    const level3 = cliVerify(version, '--level', '3');
    assertStructureFails(level3, problem);
    const others = level3.checks.filter((c) => c.name !== 'index.structure' && c.name !== 'smoke.1nn');
    assert.ok(
      others.every((c) => c.outcome === 'pass'),
      'everything else about the file is as the manifest says',
    );
  });

  it('HNSW: an entry point past the graph', async () => {
    const { version } = await damaged('hnsw', 'hnsw_entry_point', ROWS);
    assertStructureFails(await verify({ root, version }), `HNSW entry point ${ROWS} outside [0, ${ROWS})`);
  });

  it('HNSW with SQ storage: the quantizer ranges one value short', async () => {
    const { version, change } = await damaged('hnswsq', 'sq_trained_short');
    assert.equal(change.old, 32, 'SQ8 keeps a min and a range per dimension');
    assertStructureFails(
      await verify({ root, version, level: 3 }),
      'HNSW storage: SQ type 0 holds 31 trained values, needs 32',
    );
  });

  it('IVF-Flat: a list holding an id outside the rows', async () => {
    const { version, change } = await damaged('ivf', 'ivf_id', 2_000_000);
    assertStructureFails(
      await verify({ root, version, level: 3 }),
      `IVF list ${change.list} entry 0 holds id 2000000 outside [0, ${ROWS})`,
    );
  });

  it('IVF-Flat: a list one entry short, so its sizes no longer sum to ntotal', async () => {
    const { version, change } = await damaged('ivf', 'ivf_shrink');
    assertStructureFails(
      await verify({ root, version }),
      `IVF list sizes sum to ${ROWS - 1}, ntotal is ${ROWS} (row ${change.dropped} is in no list)`,
    );
  });

  it('IVF-PQ: PQ centroids one sub-vector short', async () => {
    const { version, change } = await damaged('ivfpq', 'pq_centroids_short');
    assert.equal(change.old, 16 * 16);
    assertStructureFails(
      await verify({ root, version, level: 3 }),
      'PQ centroids has 252 floats for d 16 x ksub 16',
    );
  });

  it('IVF with a refine stage: a base list holding id ntotal (one past the refine rows)', async () => {
    const { version, change } = await damaged('refine', 'ivf_id', ROWS);
    assert.equal(change.class, 'IndexIVFPQFastScan');
    assertStructureFails(
      await verify({ root, version, level: 3 }),
      `refine base: IVF list ${change.list} entry 0 holds id ${ROWS} outside [0, ${ROWS})`,
    );
  });

  it('IDMap2: an id_map one entry shorter than ntotal', async () => {
    const { version } = await damaged('flat', 'idmap_short');
    const report = await verify({ root, version, level: 3 });
    assertStructureFails(report, `IndexIDMap2 id_map has ${ROWS - 1} entries for ntotal ${ROWS}`);
  });
});
