/**
 * `--chunks` as a dataset: a directory or a glob builds the same version as one file holding the same
 * rows (same ids in the same FAISS rows, same neighbours, one chunks.parquet in that order), files in
 * byte order of their names; each bad input is refused with exit 5 naming the file(s), nothing left.
 * Real DuckDB-written Parquet, real FAISS, through the CLI.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { BadInputError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { copyToParquet } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-datasets-');
const DIM = 16;
const ROWS = 8192;
const whole = path.join(dir, 'whole.parquet');
const parts = path.join(dir, 'parts');
mkdirSync(parts);
// Byte order is part-10, part-2, part-9 (not numeric, not creation order): rows 0-4095 (two row
// groups), 4096-6143, 6144-8191, so the dataset's rows in order are whole.parquet's.
const PARTS: [string, number, number][] = [
  ['part-9.parquet', 6144, 8192],
  ['part-2.parquet', 4096, 6144],
  ['part-10.parquet', 0, 4096],
];
await writeChunks(whole, { rows: ROWS, dim: DIM, rowGroupSize: 2048 });
for (const [name, from, to] of PARTS) {
  await writeChunks(path.join(parts, name), {
    rows: ROWS,
    dim: DIM,
    rowGroupSize: 2048,
    where: `i >= ${from} AND i < ${to}`,
  });
}
const ordered = ['part-10.parquet', 'part-2.parquet', 'part-9.parquet'].map((n) => path.join(parts, n));
// Not in the dataset: another extension, a dot-file, a subdirectory's file (not recursive).
writeFileSync(path.join(parts, 'notes.txt'), 'not parquet');
writeFileSync(path.join(parts, '.part-11.parquet.tmp'), 'half written');
writeFileSync(path.join(parts, '.part-11.parquet'), 'half written');
mkdirSync(path.join(parts, 'old'));
writeFileSync(path.join(parts, 'old', 'part-0.parquet'), 'not parquet either');
const all = await readAllChunks(whole);

function ok(res: CliResult, what: string): string {
  assert.equal(res.code, 0, `${what}: exit ${res.code}\n${res.stderr}`);
  return res.stdout;
}

function buildCli(root: string, chunks: string, version: string, ...extra: string[]): CliResult {
  return runCli([
    '--root',
    root,
    'build',
    '--chunks',
    chunks,
    '--factory',
    'Flat',
    '--version',
    version,
    ...extra,
  ]);
}

function searchAll(index: FaissIndex): { labels: bigint[]; distances: number[] }[] {
  return [0, 1, 2047, 4095, 4096, 6143, 6144, ROWS - 1].map((row) => {
    const q = all.vectors.slice(row * DIM, (row + 1) * DIM).map((x, j) => x + (j % 2 ? 0.01 : -0.02));
    const r = index.search(q, 10);
    return { labels: [...r.labels], distances: [...r.distances] };
  });
}

describe('a directory or a glob builds what one file of the same rows builds', () => {
  const root = path.join(dir, 'root');
  ok(buildCli(root, whole, 'one'), 'build one file');
  const one = path.join(root, 'versions', 'one');

  for (const [name, chunks, extra] of [
    ['directory', parts, ['--link-chunks']],
    ['glob', path.join(parts, 'part-*.parquet'), []],
    ['relative glob', 'parts/part-?*.parquet', []],
  ] as const) {
    it(`${name}: same ids in the same FAISS rows, same neighbours, chunks.parquet in dataset order`, async () => {
      const version = name.replace(/\W/g, '-');
      ok(
        runCli(
          ['--root', root, 'build', '--chunks', chunks, '--factory', 'Flat', '--version', version, ...extra],
          { cwd: dir },
        ),
        `build ${name}`,
      );
      const made = path.join(root, 'versions', version);
      const idmap = async (v: string) => [...(await readIdMap(path.join(v, 'idmap.parquet'))).externalId];
      assert.deepEqual(await idmap(made), await idmap(one));
      assert.deepEqual(await idmap(made), [...all.ids]);
      // The version holds one chunks.parquet, its rows in dataset order (a written file, also
      // under --link-chunks: no link can join three files).
      const copy = await readAllChunks(path.join(made, 'chunks.parquet'));
      assert.deepEqual([...copy.ids], [...all.ids]);
      assert.deepEqual(copy.vectors, all.vectors);
      assert.ok(ordered.every((f) => statSync(f).ino !== statSync(path.join(made, 'chunks.parquet')).ino));
      const a = FaissIndex.read(path.join(made, 'faiss.index'));
      const b = FaissIndex.read(path.join(one, 'faiss.index'));
      try {
        assert.deepEqual(searchAll(a), searchAll(b));
      } finally {
        a.dispose();
        b.dispose();
      }
      const manifest = JSON.parse(readFileSync(path.join(made, 'manifest.json'), 'utf8'));
      assert.deepEqual(manifest.attrs.source_files, ordered);
      assert.equal(manifest.attrs.source_chunks, path.resolve(dir, chunks));
      ok(runCli(['--root', root, 'verify', version, '--level', '3']), `verify ${name}`);
    });
  }

  it('one file records source_chunks alone, as before', () => {
    const manifest = JSON.parse(readFileSync(path.join(one, 'manifest.json'), 'utf8'));
    assert.equal(manifest.attrs.source_chunks, whole);
    assert.equal(manifest.attrs.source_files, undefined);
  });

  it('a directory of one file builds like that file, and a glob matching one file likewise', async () => {
    const single = path.join(dir, 'single');
    mkdirSync(single);
    execFileSync('cp', [whole, path.join(single, 'only.parquet')]);
    ok(buildCli(root, single, 'dir-of-one'), 'build');
    const ids = (await readIdMap(path.join(root, 'versions', 'dir-of-one', 'idmap.parquet'))).externalId;
    assert.deepEqual([...ids], [...all.ids]);
  });
});

describe('bad datasets: exit 5 naming the file, nothing left behind', () => {
  const root = path.join(dir, 'bad-root');
  let n = 0;
  /** A directory holding copies of the good parts plus `extra` files written by `make`. */
  const datasetWith = async (make: (d: string) => Promise<void> | void, keep = ordered): Promise<string> => {
    const d = path.join(dir, `bad-${n++}`);
    mkdirSync(d);
    for (const f of keep) execFileSync('cp', [f, d]);
    await make(d);
    return d;
  };
  const refused = (chunks: string, code: number, message: RegExp, ...extra: string[]) => {
    const res = buildCli(root, chunks, 'bad', ...extra);
    assert.equal(res.code, code, res.stderr);
    assert.match(res.stderr, message);
    for (const sub of ['versions', 'staging']) {
      const p = path.join(root, sub);
      assert.deepEqual(existsSync(p) ? readdirSync(p) : [], [], sub);
    }
  };

  it('an empty directory, a glob matching nothing, a missing path', async () => {
    const empty = await datasetWith(() => {}, []);
    refused(empty, 5, /bad-\d+: the chunks directory has no \*\.parquet files/);
    refused(path.join(parts, 'nothing-*.parquet'), 5, /nothing-\*\.parquet: the chunks glob matches no file/);
    refused(path.join(parts, 'absent.parquet'), 5, /absent\.parquet: chunks file does not exist/);
  });

  it('a file whose columns differ from the first: both files and the column named', async () => {
    const d = await datasetWith((d) =>
      copyToParquet(
        path.join(d, 'part-3.parquet'),
        `SELECT (i * 1000 + 9000007)::BIGINT AS id, 'u' AS uri, 'ts' AS lang, i::BIGINT AS start_line,
           i::INTEGER AS end_line, 'x' AS text, [0.5::FLOAT for j in range(${DIM})] AS embedding FROM range(10) t(i)`,
      ),
    );
    refused(
      d,
      5,
      /part-3\.parquet: column "start_line" has type BIGINT, but .*part-10\.parquet has INTEGER; every file of a dataset/,
    );
  });

  it('a file with another dimension: both files and both dimensions named', async () => {
    const d = await datasetWith((d) =>
      writeChunks(path.join(d, 'part-3.parquet'), { rows: 10, dim: 8, id: 'i + 9000000' }),
    );
    refused(d, 5, /part-3\.parquet: column "embedding" has dimension 8 .*, but .*part-10\.parquet has 16/);
  });

  it('NaN rows in one file: that file, the ids and the count named', async () => {
    const d = await datasetWith((d) =>
      writeChunks(path.join(d, 'part-3.parquet'), {
        rows: 10,
        dim: DIM,
        id: 'i + 9000000',
        embedding: `CASE WHEN i IN (3, 5) THEN [CAST('NaN' AS FLOAT) for j in range(${DIM})] ELSE [0.5::FLOAT for j in range(${DIM})] END`,
      }),
    );
    refused(
      d,
      5,
      /part-3\.parquet: column "embedding": 2 rows have NaN or Inf values \(first ids: 9000003, 9000005\)/,
    );
  });

  it('an id twice in one file: the one-file message, naming that file', async () => {
    const d = await datasetWith((d) =>
      writeChunks(path.join(d, 'part-3.parquet'), { rows: 10, dim: DIM, id: '9000000 + i % 5' }),
    );
    refused(d, 5, /part-3\.parquet: column "id": 5 ids occur more than once \(5 extra rows/);
  });

  it('an id in two files: both files, the ids and the count named', async () => {
    // part-3 repeats rows 4094..4097: two ids of part-10 and two of part-2.
    const d = await datasetWith((d) =>
      writeChunks(path.join(d, 'part-3.parquet'), { rows: 4098, dim: DIM, where: 'i >= 4094' }),
    );
    refused(
      d,
      5,
      /bad-\d+ \(4 files\): column "id": 4 ids occur in more than one file of the dataset \(4094007 in .*part-10\.parquet and .*part-3\.parquet; 4095007 in .*part-10\.parquet and .*part-3\.parquet; 4096007 in .*part-2\.parquet and .*part-3\.parquet/,
    );
  });

  it('a FIFO named *.parquet in the directory: refused by name, before anything blocks on it', async () => {
    const d = await datasetWith((d) => void execFileSync('mkfifo', [path.join(d, 'part-3.parquet')]));
    refused(d, 5, /part-3\.parquet: chunks file is a FIFO \(named pipe\), not a regular file/);
  });

  it('a file that is not Parquet: named', async () => {
    const d = await datasetWith((d) => writeFileSync(path.join(d, 'part-3.parquet'), 'x'.repeat(100)));
    refused(d, 5, /part-3\.parquet: not a Parquet file \(no PAR1 magic at its start\)/);
  });
});

describe('a dataset file rewritten during the build', () => {
  it('is refused, naming that file, with nothing left behind', async () => {
    const root = path.join(dir, 'race-root');
    const d = path.join(dir, 'race');
    mkdirSync(d);
    for (const f of ordered) execFileSync('cp', [f, d]);
    const victim = path.join(d, 'part-9.parquet');
    let rewritten = false;
    await assert.rejects(
      build({
        root,
        chunks: d,
        factory: 'Flat',
        version: 'race',
        onProgress: (e) => {
          if (e.phase === 'write' && !rewritten) {
            rewritten = true;
            writeFileSync(victim, readFileSync(victim).subarray(0, 100)); // in place: same inode
          }
        },
      }),
      (err: unknown) =>
        err instanceof BadInputError &&
        err.message.startsWith(`${victim}: the chunks file changed while the index was being built`),
    );
    assert.ok(rewritten);
    for (const sub of ['versions', 'staging']) {
      const p = path.join(root, sub);
      assert.deepEqual(existsSync(p) ? readdirSync(p) : [], [], sub);
    }
  });
});
