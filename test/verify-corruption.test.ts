/**
 * verify on damaged versions: every check fails when its fault is present, with its exit code (4 for
 * a damaged file, 3 for files that disagree), naming the file, rows or ids; checks downstream of a
 * failure are skipped without changing the code; and FAISS refusing or crashing on a faiss.index
 * never takes the tool down. Each case damages its own copy of a sound version; where the damage
 * must get past level 1 the manifest is resealed (checksums recomputed) first.
 */
import assert from 'node:assert/strict';
import { chmodSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { build } from '../src/core/build/build.js';
import { createCatalog } from '../src/core/catalog/create.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeIdMap } from '../src/core/parquet/idmap-writer.js';
import { verify, type CheckResult, type VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { copyToParquet } from './helpers/duckdb-parquet.js';
import {
  cloneVersion,
  editManifest,
  flipByte,
  hnswEntryPointOffset,
  reseal,
  truncate,
} from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';

const helpersDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers');

const ROWS = 2000;
const DIM = 16;
const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: ROWS, dim: DIM });
const root = path.join(dir, 'root');
await build({ root, chunks, factory: 'Flat', version: 'flat' });
await build({ root, chunks, factory: 'IVF16,Flat', version: 'ivf' });
await build({ root, chunks, factory: 'HNSW16', version: 'hnsw' });
const { vectors } = await readAllChunks(chunks);
/** The fixture's ids: i * 1000 + 7. */
const idOf = (i: number) => BigInt(i * 1000 + 7);

let copies = 0;
/** A fresh copy of a sound version, and its directory. */
async function copy(from = 'flat'): Promise<{ version: string; vdir: string }> {
  const version = `${from}-${++copies}`;
  return { version, vdir: await cloneVersion(root, from, version) };
}

function check(report: VerifyReport, name: string, target?: string): CheckResult {
  const found = report.checks.find((c) => c.name === name && (target === undefined || c.target === target));
  assert.ok(found, `no ${name} ${target ?? ''} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
}

function assertFails(report: VerifyReport, name: string, code: 3 | 4, detail: RegExp, target?: string): void {
  const c = check(report, name, target);
  assert.equal(c.outcome, 'fail', `${name}: ${c.detail}`);
  assert.equal(c.exitCode, code, `${name}: ${c.detail}`);
  assert.match(c.detail, detail);
}

/**
 * Every check not named passes (or, listed in `skipped`, is skipped). A name with a target
 * ("files.checksum idmap.parquet") stands for that one result.
 */
function assertOthersPass(report: VerifyReport, failed: string[], skipped: string[] = []): void {
  const has = (list: string[], c: CheckResult) =>
    list.includes(c.name) || (c.target !== undefined && list.includes(`${c.name} ${c.target}`));
  for (const c of report.checks) {
    if (has(failed, c)) continue;
    const expected = has(skipped, c) ? 'skip' : 'pass';
    assert.equal(c.outcome, expected, `${c.name} ${c.target ?? ''}: ${c.outcome}: ${c.detail}`);
    if (expected === 'skip') assert.equal(c.exitCode, undefined);
  }
}

/**
 * `indexctl verify V --json` as a subprocess (level 2 unless `args` names one: these cases were
 * written against the level-2 checks); the parsed report, checked to agree with the exit code.
 */
function cliVerify(version: string, ...args: string[]): VerifyReport {
  const level = args.includes('--level') ? [] : ['--level', '2'];
  const res = runCli(['--root', root, 'verify', version, '--json', ...level, ...args]);
  assert.equal(res.stderr, '', 'verify reports findings, it does not crash or complain on stderr');
  const report = JSON.parse(res.stdout) as VerifyReport & { schema: string };
  assert.equal(report.schema, 'indexctl.verify/1');
  assert.equal(res.code, report.exitCode);
  return report;
}

const ASSETS = ['chunks.parquet', 'faiss.index', 'idmap.parquet', 'catalog.duckdb'];
/** Level-2 checks that read each asset (skipped when its checksum fails). */
const READERS: Record<string, string[]> = {
  'chunks.parquet': ['catalog.open', 'catalog.storage', 'catalog.chunks_count', 'catalog.coverage'],
  'faiss.index': [
    'index.header',
    'index.load',
    'index.structure',
    'index.dim',
    'index.metric',
    'index.count',
    'index.idmap2',
    'idmap.matches_index',
    'index.consistency',
    'index.params',
  ],
  'idmap.parquet': [
    'idmap.rows',
    'idmap.order',
    'idmap.unique',
    'idmap.matches_index',
    'catalog.open',
    'catalog.storage',
    'catalog.chunks_count',
    'catalog.coverage',
  ],
  'catalog.duckdb': ['catalog.open', 'catalog.storage', 'catalog.chunks_count', 'catalog.coverage'],
};

describe('files.checksum: a flipped byte or a truncation in any asset is corruption (4), naming the file', () => {
  for (const asset of ASSETS) {
    it(`${asset}: one flipped byte`, async () => {
      const { version, vdir } = await copy();
      const expected = (await readManifest(vdir)).files[asset]!.checksum;
      flipByte(path.join(vdir, asset));
      const report = cliVerify(version);
      assert.equal(report.exitCode, 4);
      assertFails(
        report,
        'files.checksum',
        4,
        new RegExp(`${asset}: checksum mismatch: expected ${expected}, actual xxh64:[0-9a-f]{16}$`),
        asset,
      );
      assertOthersPass(report, ['files.checksum'], READERS[asset]);
      assert.equal(report.checks.filter((c) => c.outcome === 'fail').length, 1);
    });

    it(`${asset}: truncated`, async () => {
      const { version, vdir } = await copy();
      truncate(path.join(vdir, asset));
      const report = cliVerify(version, '--level', '1');
      assert.equal(report.exitCode, 4);
      assertFails(report, 'files.checksum', 4, /: \d+ bytes, manifest says \d+ \(truncated\)$/, asset);
      assert.match(check(report, 'files.checksum', asset).detail, new RegExp(asset.replace('.', '\\.')));
    });
  }

  it('manifest.json: a flipped byte anywhere, even inside a string value, and a truncation', async () => {
    for (const at of ['"tool"', '"vectors_count"', '"files"']) {
      const { version, vdir } = await copy();
      const file = path.join(vdir, 'manifest.json');
      const offset = readFileSync(file, 'latin1').indexOf(at) + 3;
      flipByte(file, offset);
      const report = cliVerify(version);
      assert.equal(report.exitCode, 4, at);
      assertFails(
        report,
        'manifest.schema',
        4,
        /manifest\.json: not valid UTF-8 \(first bad byte at offset \d+\)/,
      );
      assert.ok(
        report.checks
          .filter((c) => c.name !== 'manifest.schema' && c.name !== 'files.present')
          .every((c) => c.outcome === 'skip'),
      );
    }
    const { version, vdir } = await copy();
    truncate(path.join(vdir, 'manifest.json'));
    const report = cliVerify(version);
    assert.equal(report.exitCode, 4);
    assertFails(report, 'manifest.schema', 4, /manifest\.json: not valid JSON/);
  });
});

describe('files.checksum: an unreadable asset is corruption (4), not an internal error', () => {
  it('faiss.index without read permission (EACCES)', async () => {
    const { version, vdir } = await copy();
    // Root reads anything through CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: drop those two, not the
    // user. Running as nobody instead needed every directory up to the checkout traversable by
    // nobody, and failed ("Cannot find module .../bin/indexctl.js") under a private parent directory.
    const asRoot = process.getuid?.() === 0;
    const noDac = ['-dac_override', '-dac_read_search'].join(',');
    chmodSync(path.join(vdir, 'faiss.index'), 0o000);
    const res = runCli(['--root', root, 'verify', version, '--json', '--level', '1'], {
      ...(asRoot ? { prefix: ['setpriv', `--inh-caps=${noDac}`, `--bounding-set=${noDac}`] } : {}),
    });
    chmodSync(path.join(vdir, 'faiss.index'), 0o644);
    assert.equal(res.stderr, '');
    const report = JSON.parse(res.stdout) as VerifyReport;
    assert.equal(res.code, 4);
    assertFails(report, 'files.checksum', 4, /faiss\.index: unreadable \(EACCES\)/, 'faiss.index');
    assert.equal(
      check(report, 'files.checksum', 'idmap.parquet').outcome,
      'pass',
      'the other files were read',
    );
  });
});

describe('manifest.schema', () => {
  async function rawManifest(edit: (m: Record<string, unknown>) => void): Promise<VerifyReport> {
    const { version, vdir } = await copy();
    const file = path.join(vdir, 'manifest.json');
    const m = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    edit(m);
    writeFileSync(file, JSON.stringify(m));
    return cliVerify(version);
  }

  it('missing fields are corruption (4), each named', async () => {
    const report = await rawManifest((m) => {
      delete m.vec_dim;
      delete m.files;
    });
    assert.equal(report.exitCode, 4);
    assertFails(report, 'manifest.schema', 4, /vec_dim: missing \(expected number\); files: missing/);
    assert.equal(check(report, 'files.present').outcome, 'pass', 'the four version files are all there');
    assert.ok(report.checks.slice(2).every((c) => c.outcome === 'skip'));
  });

  it('wrong types are corruption (4), each named with the value found', async () => {
    const report = await rawManifest((m) => {
      m.vectors_count = '2000';
      m.metric = 'euclid';
    });
    assertFails(
      report,
      'manifest.schema',
      4,
      /metric: expected "l2" \| "ip" \| "cosine", got string "euclid"/,
    );
    assert.match(
      check(report, 'manifest.schema').detail,
      /vectors_count: expected (integer|number), got string "2000"/,
    );
  });

  it('an unknown schema_version is corruption (4): this indexctl cannot read it', async () => {
    const report = await rawManifest((m) => {
      m.schema_version = 2;
    });
    assertFails(report, 'manifest.schema', 4, /schema_version: 2 is not supported \(this indexctl reads 1\)/);
  });

  it('a top-level checksum that disagrees with files[] is corruption (4)', async () => {
    const report = await rawManifest((m) => {
      m.index_checksum = 'xxh64:0000000000000000';
    });
    assertFails(
      report,
      'manifest.schema',
      4,
      /index_checksum xxh64:0{16} disagrees with files\["faiss\.index"\]\.checksum/,
    );
  });

  it('a manifest naming another version than its directory is an invariant violation (3)', async () => {
    const report = await rawManifest((m) => {
      m.version = 'someone-else';
    });
    assertFails(report, 'manifest.schema', 3, /names version someone-else, but its directory is flat-\d+/);
    assertOthersPass(report, ['manifest.schema']);
  });
});

describe('files.present', () => {
  it('a missing file is corruption (4) naming it; the checks that read it are skipped', async () => {
    const { version, vdir } = await copy();
    rmSync(path.join(vdir, 'idmap.parquet'));
    const report = cliVerify(version);
    assert.equal(report.exitCode, 4);
    assertFails(report, 'files.present', 4, /missing: idmap\.parquet$/);
    assert.match(check(report, 'files.checksum', 'idmap.parquet').detail, /missing \(see files\.present\)/);
    assertOthersPass(
      report,
      ['files.present'],
      ['files.checksum idmap.parquet', ...READERS['idmap.parquet']!],
    );
  });

  it('a catalog.duckdb the manifest does not list is not checksummed, and still checked', async () => {
    const { version, vdir } = await copy();
    await editManifest(vdir, (m) => {
      const { ['catalog.duckdb']: _gone, ...files } = m.files;
      return { ...m, files };
    });
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.ok, true);
    const sum = check(report, 'files.checksum', 'catalog.duckdb');
    assert.equal(sum.outcome, 'skip');
    assert.match(sum.detail, /not listed in manifest\.files/);
    assert.equal(check(report, 'catalog.coverage').outcome, 'pass');
  });
});

describe('index.*: faiss.index read in a child process', () => {
  it('garbage with a matching checksum: index.load fails (4), the tool does not crash, the rest is skipped', async () => {
    const { version, vdir } = await copy();
    writeFileSync(
      path.join(vdir, 'faiss.index'),
      Buffer.from('IxM2 this is not a FAISS index at all'.repeat(20)),
    );
    await reseal(vdir);
    const report = cliVerify(version, '--level', '3');
    assert.equal(report.exitCode, 4);
    assertFails(report, 'index.load', 4, /faiss\.index: FAISS cannot read it: Error in .*read_index/);
    assertOthersPass(
      report,
      ['index.load'],
      [
        'index.structure',
        'index.dim',
        'index.metric',
        'index.count',
        'index.idmap2',
        'idmap.matches_index',
        'index.consistency',
        'index.params',
        'smoke.1nn',
      ],
    );
    assert.match(check(report, 'idmap.rows').detail, /manifest vectors_count \(the index was not loaded\)/);
  });

  it('--probe-timeout: a FAISS read slower than the bound is killed and reported as corruption (4)', async () => {
    // The read is made to hang (test/helpers/stall-probe-load.ts), so the bound is what ends it,
    // however fast this machine reads the file; a read that merely takes longer than 1 ms would not be.
    const { version } = await copy();
    const hang = { NODE_OPTIONS: `--import ${path.join(helpersDir, 'stall-probe-load.js')}` };
    const verifyJson = (args: string[], env: NodeJS.ProcessEnv) => {
      const res = runCli(['--root', root, 'verify', version, '--json', ...args], { env });
      assert.equal(res.stderr, '');
      return { code: res.code, report: JSON.parse(res.stdout) as VerifyReport };
    };
    const { code, report } = verifyJson(['--probe-timeout', '0.5'], hang);
    assert.equal(code, 4);
    assertFails(
      report,
      'index.load',
      4,
      /faiss\.index: FAISS did not finish reading it \(no answer to load within 0\.5 s, the --probe-timeout bound; the probe was killed \(raise the bound with --probe-timeout or INDEXCTL_PROBE_TIMEOUT\)\)/,
    );
    assert.equal(verifyJson(['--probe-timeout', '600'], {}).code, 0, 'a generous bound changes nothing');
    const bad = runCli(['--root', root, 'verify', version, '--probe-timeout', 'soon']);
    assert.equal(bad.code, 2);
    assert.equal(
      verifyJson([], { ...hang, INDEXCTL_PROBE_TIMEOUT: '0.5' }).code,
      4,
      'INDEXCTL_PROBE_TIMEOUT is the default bound (publish and rollback use it too)',
    );
  });

  it('an HNSW entry point past the end of its graph (loads, then crashes a search): index.structure fails (4) at level 2, nothing searches it', async () => {
    const { version, vdir } = await copy('hnsw');
    const file = path.join(vdir, 'faiss.index');
    const bytes = readFileSync(file);
    // read_index accepts it; the first search reads memory FAISS never allocated (SIGSEGV), which
    // is what smoke.1nn at level 3 reported before index.structure walked the graph.
    bytes.writeInt32LE(0x7fffffff, hnswEntryPointOffset(bytes));
    writeFileSync(file, bytes);
    await reseal(vdir);
    const level2 = cliVerify(version);
    assert.equal(level2.exitCode, 4);
    assertFails(level2, 'index.structure', 4, /HNSW entry point 2147483647 outside \[0, 2000\)$/);
    assertOthersPass(level2, ['index.structure']);
    const report = cliVerify(version, '--level', '3');
    assertFails(report, 'index.structure', 4, /HNSW entry point 2147483647 outside \[0, 2000\)$/);
    assert.match(
      check(report, 'smoke.1nn').detail,
      /failed index\.structure: searching it could crash FAISS/,
    );
    assertOthersPass(report, ['index.structure'], ['smoke.1nn']);
  });

  it('a probe that dies during the smoke search is corruption (4), reported, not a crash of the tool', async () => {
    // No file left that passes index.structure and still crashes a search: a failpoint kills the
    // probe where FAISS would have.
    const res = runCli(['--root', root, 'verify', 'hnsw', '--json', '--level', '3'], {
      env: { INDEXCTL_FAILPOINT: 'verify:probe-search' },
    });
    assert.equal(res.stderr, '');
    const report = JSON.parse(res.stdout) as VerifyReport;
    assert.equal(res.code, 4);
    assertFails(
      report,
      'smoke.1nn',
      4,
      /faiss\.index crashed FAISS during the smoke search \(signal SIGKILL/,
    );
    assertOthersPass(report, ['smoke.1nn']);
  });

  it('vectors_count that is not the index ntotal is an invariant violation (3) naming both', async () => {
    const { version, vdir } = await copy();
    await editManifest(vdir, (m) => ({ ...m, vectors_count: ROWS + 5 }));
    const report = cliVerify(version, '--level', '3');
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'index.count',
      3,
      new RegExp(`holds ${ROWS} vectors, manifest vectors_count is ${ROWS + 5}`),
    );
    assertFails(report, 'catalog.chunks_count', 3, new RegExp(`${ROWS} chunks for ${ROWS + 5} vectors`));
    assertOthersPass(report, ['index.count', 'catalog.chunks_count']);
  });

  it('vec_dim and metric that are not the index ones are invariant violations (3)', async () => {
    const { version, vdir } = await copy();
    await editManifest(vdir, (m) => ({ ...m, vec_dim: 32, metric: 'ip' }));
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'index.dim', 3, /faiss\.index has d = 16, manifest vec_dim is 32/);
    assertFails(report, 'index.metric', 3, /faiss\.index uses metric l2, manifest metric ip needs ip/);
    assertOthersPass(report, ['index.dim', 'index.metric']);
  });

  it('an index without IndexIDMap2 fails index.idmap2 (3); what needs its id map is skipped', async () => {
    const { version, vdir } = await copy();
    const plain = FaissIndex.fromFactory(DIM, 'Flat');
    plain.add(vectors);
    plain.write(path.join(vdir, 'faiss.index'));
    plain.dispose();
    await reseal(vdir);
    const report = await verify({ root, version, level: 3 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'index.idmap2', 3, /faiss\.index is IndexFlat(L2)?, not an IndexIDMap2/);
    assertOthersPass(report, ['index.idmap2'], ['idmap.matches_index', 'index.consistency', 'smoke.1nn']);
  });

  it('an IndexIDMap2 holding an id twice fails index.consistency and idmap.unique (3), naming the id', async () => {
    const { version, vdir } = await copy();
    const ids = BigInt64Array.from({ length: ROWS }, (_, i) => idOf(i));
    ids[1] = ids[0]!;
    const index = FaissIndex.fromFactory(DIM, 'Flat').wrapIdMap2();
    index.addWithIds(vectors, ids);
    index.write(path.join(vdir, 'faiss.index'));
    index.dispose();
    await writeIdMap(path.join(vdir, 'idmap.parquet'), ids);
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'index.consistency', 3, /check_consistency failed/);
    assertFails(report, 'idmap.unique', 3, /1 external id repeated \(1 extra row\): 7$/);
    assertFails(report, 'catalog.coverage', 3, /1 embedded chunk is not in the idmap: 1007$/);
    // The hash table's 2,000 rows are right; the id the idmap lost is named as a stray, not counted twice.
    assertFails(
      report,
      'catalog.chunks_count',
      3,
      /^chunks: chunk_embedding_hash has 1 ids that are not in the idmap$/,
    );
    assertOthersPass(report, [
      'index.consistency',
      'idmap.unique',
      'catalog.coverage',
      'catalog.chunks_count',
    ]);
  });
});

describe('idmap.*: idmap.parquet against itself and the index', () => {
  it('two swapped ids: idmap.matches_index fails (3) naming both rows and their ids', async () => {
    const { version, vdir } = await copy();
    const file = path.join(vdir, 'idmap.parquet');
    const ids = (await readIdMap(file)).externalId;
    [ids[3], ids[7]] = [ids[7]!, ids[3]!];
    await writeIdMap(file, ids);
    await reseal(vdir);
    const report = cliVerify(version);
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'idmap.matches_index',
      3,
      /in 2 rows: row 3: idmap 7007, index 3007, row 7: idmap 3007, index 7007$/,
    );
    assertOthersPass(report, ['idmap.matches_index']);
  });

  it('faiss_row out of order: idmap.order fails (3) naming the rows', async () => {
    const { version, vdir } = await copy();
    await copyToParquet(
      path.join(vdir, 'idmap.parquet'),
      `SELECT (CASE i WHEN 5 THEN 6 WHEN 6 THEN 5 ELSE i END)::BIGINT AS faiss_row, (i * 1000 + 7)::BIGINT AS external_id
         FROM range(${ROWS}) t(i) ORDER BY i`,
    );
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'idmap.order', 3, /in 2 rows: row 5 has faiss_row 6, row 6 has faiss_row 5$/);
    assertOthersPass(report, ['idmap.order']);
  });

  it('one row short: idmap.rows fails (3); matching row by row is skipped', async () => {
    const { version, vdir } = await copy();
    const file = path.join(vdir, 'idmap.parquet');
    await writeIdMap(file, (await readIdMap(file)).externalId.slice(0, ROWS - 1));
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'idmap.rows', 3, new RegExp(`has ${ROWS - 1} rows, faiss\\.index ntotal is ${ROWS}`));
    assertFails(
      report,
      'catalog.coverage',
      3,
      new RegExp(`embedded chunk is not in the idmap: ${idOf(ROWS - 1)}$`),
    );
    assertFails(
      report,
      'catalog.chunks_count',
      3,
      /chunk_embedding_hash has 1 ids that are not in the idmap$/,
    );
    assertOthersPass(
      report,
      ['idmap.rows', 'catalog.coverage', 'catalog.chunks_count'],
      ['idmap.matches_index'],
    );
  });

  it('an idmap.parquet that is not Parquet (checksum resealed) is corruption (4)', async () => {
    const { version, vdir } = await copy();
    writeFileSync(path.join(vdir, 'idmap.parquet'), 'faiss_row,external_id\n0,7\n');
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 4);
    assertFails(report, 'idmap.rows', 4, /idmap\.parquet: cannot be read as Parquet/);
    for (const name of ['idmap.order', 'idmap.unique', 'idmap.matches_index']) {
      assert.equal(check(report, name).outcome, 'skip');
    }
  });
});

describe('catalog.*', () => {
  it('chunks missing ids the index holds: catalog.coverage fails (3) naming them', async () => {
    const { version, vdir } = await copy();
    const file = path.join(vdir, 'chunks.parquet');
    await writeChunks(file, { rows: ROWS, dim: DIM, where: 'i NOT IN (3, 5, 8)' });
    await reseal(vdir);
    const report = cliVerify(version, '--level', '3', '--smoke', `${ROWS}`);
    assert.equal(report.exitCode, 3);
    assertFails(report, 'catalog.coverage', 3, /^3 idmap ids are not chunks: 3007, 5007, 8007$/);
    assertFails(report, 'catalog.chunks_count', 3, new RegExp(`${ROWS - 3} chunks for ${ROWS} vectors`));
    assertFails(
      report,
      'smoke.1nn',
      3,
      /^3 sampled ids have no stored embedding in chunks: 3007, 5007, 8007$/,
    );
    assertOthersPass(report, ['catalog.coverage', 'catalog.chunks_count', 'smoke.1nn']);
  });

  it('embedded chunks the index lacks: catalog.coverage fails (3) naming them', async () => {
    const { version, vdir } = await copy();
    await writeChunks(path.join(vdir, 'chunks.parquet'), { rows: ROWS + 7, dim: DIM });
    await createCatalog(vdir); // its hydration table made over the new chunks
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'catalog.coverage',
      3,
      /^7 embedded chunks are not in the idmap: 2000007, 2001007, 2002007, 2003007, 2004007 and 2 more$/,
    );
    assert.equal(
      check(report, 'catalog.chunks_count').detail,
      `${ROWS + 7} chunks, ids unique, 7 more than vectors_count (not indexed)`,
    );
    assertOthersPass(report, ['catalog.coverage']);
  });

  it('a catalog whose hydration table was made for other chunks fails catalog.chunks_count (3)', async () => {
    const { version, vdir } = await copy();
    await writeChunks(path.join(vdir, 'chunks.parquet'), { rows: ROWS + 7, dim: DIM });
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'catalog.chunks_count',
      3,
      new RegExp(`chunk_meta has ${ROWS} rows for ${ROWS + 7} chunks`),
    );
  });

  it('chunks whose ids repeat fail catalog.chunks_count (3) naming them', async () => {
    const { version, vdir } = await copy();
    await writeChunks(path.join(vdir, 'chunks.parquet'), {
      rows: ROWS + 2,
      dim: DIM,
      id: `CASE WHEN i >= ${ROWS} THEN (i - ${ROWS}) * 1000 + 7 ELSE i * 1000 + 7 END`,
    });
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 3);
    assertFails(report, 'catalog.chunks_count', 3, /chunk ids repeat \(2 extra rows\): 7, 1007$/);
  });

  it('a catalog.duckdb that is not a database (checksum resealed) fails catalog.open (4)', async () => {
    const { version, vdir } = await copy();
    writeFileSync(path.join(vdir, 'catalog.duckdb'), Buffer.alloc(8192, 0x5a));
    await reseal(vdir);
    const report = await verify({ root, version, level: 2 });
    assert.equal(report.exitCode, 4);
    assertFails(report, 'catalog.open', 4, /catalog\.duckdb/);
    assertOthersPass(
      report,
      ['catalog.open'],
      ['catalog.storage', 'catalog.chunks_count', 'catalog.coverage'],
    );
  });
});

describe('index.params: the manifest tuning against the index', () => {
  const tuning = { family: 'ivf_flat' as const, k: 10, nprobe: 16, recall_at_k: 0.95 };

  it('no tuning: passes, and says what the index holds', async () => {
    const report = await verify({ root, version: 'ivf', level: 2 });
    assert.equal(
      check(report, 'index.params').detail,
      'no tuning recorded; index holds nprobe=1, max_codes=0',
    );
  });

  it('a tuning the index can take passes, applied for the smoke search, whatever the file stores', async () => {
    const { version, vdir } = await copy('ivf');
    await editManifest(vdir, (m) => ({ ...m, tuning }));
    const report = await verify({ root, version, level: 3 });
    assert.equal(report.ok, true, JSON.stringify(report.checks.filter((c) => c.outcome !== 'pass')));
    assert.equal(
      check(report, 'index.params').detail,
      'tuning nprobe=16 applies (the index file holds nprobe=1; readers apply the tuning at load)',
    );
    assert.match(check(report, 'smoke.1nn').detail, /k 10, tuning applied;.*needs tuning recall_at_k 0\.95$/);
  });

  it('a knob the index does not have is an invariant violation (3)', async () => {
    const { version, vdir } = await copy('ivf');
    await editManifest(vdir, (m) => ({ ...m, tuning: { ...tuning, nprobe: null, hnsw_efSearch: 64 } }));
    const report = cliVerify(version);
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'index.params',
      3,
      /tuning sets efSearch=64, but IndexIDMap2<IndexIVFFlat> has no efSearch \(it has nprobe=1, max_codes=0\)/,
    );
    assertOthersPass(report, ['index.params']);
  });

  it('a tuning for another family is an invariant violation (3)', async () => {
    const { version, vdir } = await copy('ivf');
    await editManifest(vdir, (m) => ({ ...m, tuning: { ...tuning, family: 'hnsw' } }));
    const report = await verify({ root, version, level: 2 });
    assertFails(report, 'index.params', 3, /tuning is for family hnsw, but IDMap2,IVF16,Flat is ivf_flat/);
  });

  it('a value FAISS refuses is an invariant violation (3)', async () => {
    const { version, vdir } = await copy('hnsw');
    await editManifest(vdir, (m) => ({
      ...m,
      tuning: { family: 'hnsw', k: 10, params: 'efSearch=64,nprobe=4' },
    }));
    const report = await verify({ root, version, level: 2 });
    assertFails(report, 'index.params', 3, /has no nprobe/);
  });
});

describe('smoke.1nn', () => {
  it('stored embeddings that are not the indexed vectors fail (3) naming the misses; level 2 cannot see it', async () => {
    const { version, vdir } = await copy();
    await writeChunks(path.join(vdir, 'chunks.parquet'), {
      rows: ROWS,
      dim: DIM,
      embedding: `list_transform(range(${DIM}), j -> ((hash(i * 977 + j + 5) % 2000) / 1000.0 - 1.0)::FLOAT)`,
    });
    await reseal(vdir);
    assert.equal((await verify({ root, version, level: 2 })).ok, true);
    const report = cliVerify(version, '--level', '3', '--smoke', '40');
    assert.equal(report.exitCode, 3);
    assertFails(
      report,
      'smoke.1nn',
      3,
      /^recall@1 0\.\d{3} \(\d+\/40 sampled, seed 0, k 1, .*needs exact index: every sample; misses: id \d+ -> \d+ \(own id (at rank \d+|not in top 10)\)/,
    );
    assertOthersPass(report, ['smoke.1nn']);
  });
});
