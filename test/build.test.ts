import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { BadInputError, UsageError } from '../src/core/errors.js';
import { FaissIndex } from '../src/core/faiss/index.js';
import { acquireWriterLock } from '../src/core/lock.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { packageRoot } from '../src/core/util/paths.js';
import { writeChunks } from './helpers/chunks.js';
import { buildCli, runCli } from './helpers/cli.js';
import { copyToParquet, duckdbRows } from './helpers/duckdb-parquet.js';
import { runPython } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks);

function versionsOf(root: string): string[] {
  return existsSync(path.join(root, 'versions')) ? readdirSync(path.join(root, 'versions')) : [];
}

function stagingOf(root: string): string[] {
  return existsSync(path.join(root, 'staging')) ? readdirSync(path.join(root, 'staging')) : [];
}

describe('build: sample -> build -> a complete version', () => {
  it('makes a version Python FAISS reads with the idmap ids, checksums as xxhsum -H1', async () => {
    const root = path.join(dir, 'e2e');
    const sample = path.join(dir, 'sample.parquet');
    assert.equal(runCli(['sample', '--from', path.join(packageRoot, 'src'), '--out', sample]).code, 0);
    const res = runCli([
      '--root',
      root,
      'build',
      '--chunks',
      sample,
      '--factory',
      'HNSW32',
      '--metric',
      'cosine',
      '--version',
      'v1',
      '--json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as {
      schema: string;
      dir: string;
      manifest: { vectors_count: number };
    };
    assert.equal(report.schema, 'indexctl.build/1');
    const v = path.join(root, 'versions/v1');
    assert.equal(report.dir, v);
    assert.deepEqual(readdirSync(v).sort(), [
      'catalog.duckdb',
      'chunks.parquet',
      'faiss.index',
      'idmap.parquet',
      'manifest.json',
    ]);
    assert.deepEqual(stagingOf(root), []);

    const py = runPython<{ cls: string; ids: string[] }>(
      `import sys, json, faiss
index = faiss.read_index(sys.argv[1])
print(json.dumps({"cls": type(faiss.downcast_index(index)).__name__, "ids": [str(i) for i in faiss.vector_to_array(faiss.downcast_index(index).id_map)]}))`,
      [path.join(v, 'faiss.index')],
    );
    assert.equal(py.cls, 'IndexIDMap2');
    const rows = await duckdbRows('SELECT faiss_row, external_id FROM read_parquet($1) ORDER BY faiss_row', [
      path.join(v, 'idmap.parquet'),
    ]);
    assert.equal(rows.length, report.manifest.vectors_count);
    rows.forEach((r, i) => assert.equal(r[0], BigInt(i)));
    assert.deepEqual(
      rows.map((r) => String(r[1])),
      py.ids,
    );
    const manifest = JSON.parse(readFileSync(path.join(v, 'manifest.json'), 'utf8')) as {
      files: Record<string, { checksum: string }>;
    };
    for (const [name, entry] of Object.entries(manifest.files)) {
      const xxhsum = spawnSync('xxhsum', ['-H1', path.join(v, name)], { encoding: 'utf8' });
      assert.equal(entry.checksum, `xxh64:${xxhsum.stdout.split(/\s+/)[0]}`, name);
    }
  });

  it('owns its chunks: rewriting the input in place afterwards leaves the version intact', async () => {
    const root = path.join(dir, 'own');
    const file = path.join(dir, 'rewritten-later.parquet');
    await writeChunks(file);
    await build({ root, chunks: file, factory: 'Flat', version: 'o1' });
    const before = readFileSync(path.join(root, 'versions/o1/chunks.parquet'));
    const other = path.join(dir, 'rewritten-later-other.parquet');
    await writeChunks(other, { where: 'i < 10' });
    writeFileSync(file, readFileSync(other)); // truncate and rewrite the same inode, as most writers do
    assert.notDeepEqual(readFileSync(file), before);
    assert.deepEqual(readFileSync(path.join(root, 'versions/o1/chunks.parquet')), before);
    const res = runCli(['--root', root, 'verify', 'o1', '--level', '1']);
    assert.equal(res.code, 0, res.stderr);
    assert.notEqual(statSync(path.join(root, 'versions/o1/chunks.parquet')).ino, statSync(file).ino);
    // --link-chunks: the operator promises never to rewrite the input in place; a hard link.
    const linked = buildCli(root, file, '--version', 'o2', '--link-chunks');
    assert.equal(linked.code, 0, linked.stderr);
    assert.equal(statSync(path.join(root, 'versions/o2/chunks.parquet')).ino, statSync(file).ino);
  });

  it('joins every FAISS row to its chunk through v_faiss_join', async () => {
    const root = path.join(dir, 'join');
    await build({ root, chunks, factory: 'Flat', version: 'j1', materialize: true });
    const { openCatalog } = await import('../src/core/catalog/open.js');
    const catalog = await openCatalog(path.join(root, 'versions/j1'));
    try {
      const [row] = await catalog.query(
        'SELECT count(*) AS n, count(faiss_row) AS joined, count(DISTINCT faiss_row) AS rows FROM v_faiss_join',
      );
      assert.equal(Number(row!.n), 3000);
      assert.equal(Number(row!.joined), 3000);
      assert.equal(Number(row!.rows), 3000);
      const structure = await catalog.structure();
      assert.ok(structure.tables.includes('faiss_idmap_mat'));
    } finally {
      catalog.close();
    }
  });
});

describe('build: index families', () => {
  for (const factory of ['Flat', 'HNSW16', 'IVF16,Flat', 'IVF16,PQ8x4fs,RFlat']) {
    it(`builds ${factory}: every row searchable by its own vector, ids from the file`, async () => {
      const root = path.join(dir, `fam-${factory.replace(/[^A-Za-z0-9]/g, '_')}`);
      const report = await build({ root, chunks, factory, version: 'v' });
      assert.equal(report.manifest!.faiss_factory, `IDMap2,${factory}`);
      assert.equal(report.manifest!.vectors_count, 3000);
      const index = FaissIndex.read(path.join(root, 'versions/v/faiss.index'));
      assert.equal(index.ntotal, 3000);
      assert.match(index.className, /^IndexIDMap2</);
      if (factory.startsWith('IVF')) index.setParameters('nprobe=16');
      const { ids, vectors } = await readAllChunks(chunks);
      const { labels } = index.search(vectors.subarray(1234 * 16, 1235 * 16), 1);
      assert.equal(labels[0], ids[1234]);
      assert.equal(ids[1234], 1234n * 1000n + 7n);
    });
  }

  it('normalizes vectors for cosine and uses inner product', async () => {
    const root = path.join(dir, 'cosine');
    const report = await build({ root, chunks, factory: 'Flat', metric: 'cosine', version: 'c' });
    assert.equal(report.manifest!.metric, 'cosine');
    const index = FaissIndex.read(path.join(root, 'versions/c/faiss.index'));
    assert.equal(index.metric, 'ip');
    const v = index.reconstruct(7n);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-5, `norm ${norm}`);
  });

  it('trains on a deterministic sample: two builds give byte-identical indexes', async () => {
    const a = await build({
      root: path.join(dir, 'det'),
      chunks,
      factory: 'IVF16,Flat',
      version: 'a',
      trainSample: 800,
    });
    const b = await build({
      root: path.join(dir, 'det'),
      chunks,
      factory: 'IVF16,Flat',
      version: 'b',
      trainSample: 800,
    });
    assert.equal(a.plan.trainSample, 800);
    assert.equal(a.manifest!.index_checksum, b.manifest!.index_checksum);
  });

  it('--factory auto picks Flat for a small file, and --dry-run touches nothing', async () => {
    const root = path.join(dir, 'dry');
    const report = await build({ root, chunks, factory: 'auto', dryRun: true });
    assert.equal(report.dryRun, true);
    assert.equal(report.plan.factory, 'Flat');
    assert.ok(report.plan.estimatedIndexBytes >= 3000 * 16 * 4);
    assert.equal(existsSync(root), false, 'a dry run creates nothing');
  });

  it('refuses a plan over --memory-budget before any work (exit 2)', () => {
    const root = path.join(dir, 'budget');
    const res = buildCli(root, chunks, '--memory-budget', '1M');
    assert.equal(res.code, 2);
    assert.match(res.stderr, /needs about .* at peak, over --memory-budget 1\.0 MiB/);
    assert.equal(existsSync(root), false);
    assert.equal(runCli(['--root', root, 'build', '--chunks', chunks, '--memory-budget', 'lots']).code, 2);
  });
});

describe('build: bad input exits 5 and leaves versions/ and CURRENT untouched', () => {
  const root = path.join(dir, 'bad');
  const cases: {
    name: string;
    fixture?: Parameters<typeof writeChunks>[1];
    file?: string;
    args?: string[];
    message: RegExp;
  }[] = [
    { name: 'not Parquet', file: 'text', message: /not a Parquet file/i },
    { name: 'empty', fixture: { where: 'false' }, message: /no rows|empty/i },
    {
      name: 'missing column',
      args: ['--embedding-column', 'vec'],
      message: /missing column "vec"; the file has: id \(BIGINT\), .*embedding \(FLOAT\[\]\)/,
    },
    { name: 'wrong type', fixture: { embedding: `'x' || i` }, message: /embedding.*(type|VARCHAR)/is },
    {
      name: 'mixed dimension',
      fixture: { embedding: `list_transform(range(CASE WHEN i = 2500 THEN 8 ELSE 16 END), j -> 0.5::FLOAT)` },
      message: /dimension.*2500007|2500007.*dimension/is,
    },
    { name: '--dim mismatch', args: ['--dim', '32'], message: /dimension 16.*expected 32/ },
    {
      name: 'NaN',
      fixture: {
        embedding: `list_transform(range(16), j -> CASE WHEN i IN (5, 9) AND j = 3 THEN 'nan'::FLOAT ELSE 0.25::FLOAT END)`,
      },
      message: /(NaN|finite).*5007.*9007|5007.*9007.*(NaN|finite)/is,
    },
    { name: 'null id', fixture: { id: `CASE WHEN i = 3 THEN NULL ELSE i END` }, message: /null/i },
    { name: 'duplicate ids', fixture: { id: `i % 2990` }, message: /duplicate/i },
    { name: 'negative ids', fixture: { id: `i - 5` }, message: /negative|-5/i },
    {
      name: 'too few vectors to train',
      args: ['--factory', 'IVF4096,Flat'],
      message: /too few to train IVF4096,Flat/,
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const file = path.join(dir, `bad-${c.name.replace(/[^a-z]/gi, '_')}.parquet`);
      if (c.file === 'text') writeFileSync(file, 'id,embedding\n1,"[1,2]"\n');
      else await writeChunks(file, c.fixture ?? {});
      const res = buildCli(root, file, ...(c.args ?? []));
      assert.equal(res.code, 5, `${c.name}: ${res.stderr}`);
      assert.match(res.stderr, c.message);
      assert.ok(res.stderr.includes(file), `names the file: ${res.stderr}`);
      assert.deepEqual(versionsOf(root), []);
      assert.deepEqual(stagingOf(root), []);
      assert.equal(existsSync(path.join(root, 'CURRENT')), false);
    });
  }

  it("a missing hydration column is refused before any work; --uri-column names the file's own", async () => {
    const file = path.join(dir, 'renamed-uri.parquet');
    await copyToParquet(file, `SELECT * RENAME (uri AS path) FROM read_parquet('${chunks}')`);
    const res = buildCli(root, file, '--json');
    assert.equal(res.code, 5, res.stderr);
    assert.match(
      res.stderr,
      /renamed-uri\.parquet: missing column "uri", which search results .*--uri-column.*path \(VARCHAR\)/,
    );
    assert.deepEqual(versionsOf(root), []);
    assert.deepEqual(stagingOf(root), []);

    const ok = path.join(dir, 'renamed-ok');
    const built = buildCli(ok, file, '--uri-column', 'path', '--version', 'r1', '--json');
    assert.equal(built.code, 0, built.stderr);
    const { openCatalog } = await import('../src/core/catalog/open.js');
    const catalog = await openCatalog(path.join(ok, 'versions/r1'));
    try {
      const rows = await catalog.query('SELECT uri FROM chunks WHERE id = 7');
      assert.deepEqual(rows, [{ uri: 'src/f0.ts' }]);
    } finally {
      catalog.close();
    }
  });

  it('a chunks file rewritten during the build is refused (the index would not match the copy)', async () => {
    const file = path.join(dir, 'rewritten-during.parquet');
    await writeChunks(file);
    let rewritten = false;
    await assert.rejects(
      build({
        root,
        chunks: file,
        factory: 'Flat',
        version: 'race',
        onProgress: (e) => {
          if (e.phase === 'write' && !rewritten) {
            rewritten = true;
            writeFileSync(file, readFileSync(file).subarray(0, 100)); // in place: same inode, new bytes
          }
        },
      }),
      (err: unknown) =>
        err instanceof BadInputError &&
        /changed while the index was being built/.test(err.message) &&
        err.message.includes(file),
    );
    assert.ok(rewritten);
    assert.deepEqual(versionsOf(root), []);
    assert.deepEqual(stagingOf(root), []);
  });

  it('throws typed errors from the library too', async () => {
    // Outside the factory grammar whatever the data: usage (docs/format.md "Factory strings").
    await assert.rejects(build({ root, chunks, factory: 'NoSuchThing' }), UsageError);
    // Fine, but not for 16-dimensional vectors: bad input.
    await assert.rejects(build({ root, chunks, factory: 'PQ7' }), BadInputError);
    await assert.rejects(build({ root, chunks, factory: 'Flat', version: '../escape' }), UsageError);
  });
});

describe('build: versions, names and the writer lock', () => {
  const root = path.join(dir, 'life');

  it('refuses an existing version and a hostile version name (exit 2)', async () => {
    await build({ root, chunks, factory: 'Flat', version: 'once' });
    const again = buildCli(root, chunks, '--version', 'once');
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already exists/);
    for (const name of ['../x', 'a/b', '.hidden', 'x'.repeat(129)]) {
      const res = buildCli(root, chunks, '--version', name);
      assert.equal(res.code, 2, name);
      assert.match(res.stderr, /invalid version name/);
    }
    assert.deepEqual(versionsOf(root), ['once']);
  });

  it('with --wait 0, exits 75 at the seal while another writer holds the lock; nothing left; stale staging cleaned next', async () => {
    const lock = await acquireWriterLock(root, { command: 'test holder' });
    try {
      const res = buildCli(root, chunks, '--version', 'locked', '--wait', '0');
      assert.equal(res.code, 75, res.stderr);
      assert.match(res.stderr, /"test holder"/);
      assert.deepEqual(stagingOf(root), []);
      assert.deepEqual(versionsOf(root), ['once']);
    } finally {
      lock.release();
    }
    // A crashed build's debris: a staging dir whose pid is gone.
    const debris = path.join(root, 'staging', 'dead.999999.0badc0de');
    (await import('node:fs')).mkdirSync(debris, { recursive: true });
    await build({ root, chunks, factory: 'Flat', version: 'after' });
    assert.equal(existsSync(debris), false);
    assert.equal((await readManifest(path.join(root, 'versions/after'))).vectors_count, 3000);
  });
});
