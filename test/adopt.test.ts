/**
 * Adopting a version made by another tool: a Python pipeline writes faiss.index (IndexIDMap2,
 * faiss.write_index) next to its chunks file; write-manifest makes it a complete version.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { writeManifest } from '../src/core/adopt/write-manifest.js';
import { InvariantViolationError, UsageError } from '../src/core/errors.js';
import { exportIdMap } from '../src/core/adopt/export-idmap.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeIdMap } from '../src/core/parquet/idmap-writer.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { setTuning } from './helpers/families.js';
import { runPython, writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: 2000 });
const { ids, vectors } = await readAllChunks(chunks);
writeRaw(path.join(dir, 'x.f32'), vectors);
writeRaw(path.join(dir, 'ids.i64'), ids);

const PYTHON_PIPELINE = `
import sys, json, numpy as np, faiss
x = np.fromfile(sys.argv[1], dtype='float32').reshape(-1, 16)
ids = np.fromfile(sys.argv[2], dtype='int64')
inner = faiss.index_factory(16, sys.argv[4])
index = faiss.IndexIDMap2(inner) if sys.argv[5] == 'idmap2' else inner
index.train(x)
if sys.argv[5] == 'idmap2':
    index.add_with_ids(x, ids)
else:
    index.add(x)
faiss.write_index(index, sys.argv[3])
print(json.dumps({"ntotal": int(index.ntotal)}))
`;

/** A version directory as a Python pipeline leaves it: faiss.index + chunks.parquet. */
function pythonVersion(root: string, name: string, factory = 'HNSW16', wrap = 'idmap2'): string {
  const v = path.join(root, 'versions', name);
  mkdirSync(v, { recursive: true });
  copyFileSync(chunks, path.join(v, 'chunks.parquet'));
  runPython(PYTHON_PIPELINE, [
    path.join(dir, 'x.f32'),
    path.join(dir, 'ids.i64'),
    path.join(v, 'faiss.index'),
    factory,
    wrap,
  ]);
  return v;
}

describe('write-manifest: adopting a version built by Python FAISS', () => {
  const root = path.join(dir, 'root');

  it('derives the id map and catalog and seals a complete version', () => {
    const v = pythonVersion(root, 'py1');
    const res = runCli([
      '--root',
      root,
      'write-manifest',
      'py1',
      '--factory',
      'HNSW16',
      '--attr',
      'pipeline=nightly',
      '--json',
    ]);
    assert.equal(res.code, 0, res.stderr);
    const report = JSON.parse(res.stdout) as {
      schema: string;
      derived: string[];
      manifest: {
        faiss_factory: string;
        vectors_count: number;
        vec_dim: number;
        attrs: Record<string, unknown>;
      };
    };
    assert.equal(report.schema, 'indexctl.write-manifest/1');
    assert.deepEqual(report.derived, ['idmap.parquet', 'catalog.duckdb']);
    assert.equal(report.manifest.faiss_factory, 'IDMap2,HNSW16');
    assert.equal(report.manifest.vectors_count, 2000);
    assert.equal(report.manifest.vec_dim, 16);
    assert.equal(report.manifest.attrs.pipeline, 'nightly');
    assert.equal(report.manifest.attrs.adopted, true);
    return readIdMap(path.join(v, 'idmap.parquet')).then((map) => assert.deepEqual(map.externalId, ids));
  });

  it('re-sealing keeps the metric, factory, tuning and age and refreshes checksums', async () => {
    const tuning = { family: 'hnsw' as const, k: 10, hnsw_efSearch: 48, recall_at_k: 0.97 };
    await setTuning(root, 'py1', tuning);
    const first = await readManifest(path.join(root, 'versions/py1'));
    const again = await writeManifest({ root, version: 'py1' });
    assert.equal(again.manifest.faiss_factory, first.faiss_factory);
    assert.equal(again.manifest.metric, first.metric);
    assert.deepEqual(again.manifest.tuning, tuning);
    assert.equal(
      again.manifest.created_ts,
      first.created_ts,
      'a re-seal does not make an old version newest',
    );
    assert.deepEqual(again.derived, []);
    assert.equal(again.manifest.index_checksum, first.index_checksum);
  });

  it('refuses a --factory or --metric the file contradicts (exit 2), sealing nothing', () => {
    const v = pythonVersion(root, 'liar', 'HNSW16');
    const factory = runCli(['--root', root, 'write-manifest', 'liar', '--factory', 'IVF16,Flat']);
    assert.equal(factory.code, 2, factory.stderr);
    assert.match(
      factory.stderr,
      /--factory IDMap2,IVF16,Flat builds IndexIDMap2<IndexIVFFlat>, but faiss\.index is IndexIDMap2<IndexHNSWFlat>/,
    );
    const metric = runCli([
      '--root',
      root,
      'write-manifest',
      'liar',
      '--factory',
      'HNSW16',
      '--metric',
      'ip',
    ]);
    assert.equal(metric.code, 2, metric.stderr);
    assert.match(metric.stderr, /--metric ip does not match faiss\.index, whose metric is l2/);
    assert.deepEqual(readdirSync(v).sort(), ['chunks.parquet', 'faiss.index']);
  });

  it('derives the factory of a Flat index, and asks for it otherwise (exit 2)', async () => {
    pythonVersion(root, 'flat', 'Flat');
    assert.equal((await writeManifest({ root, version: 'flat' })).manifest.faiss_factory, 'IDMap2,Flat');
    const v = pythonVersion(root, 'hnsw', 'HNSW16');
    const res = runCli(['--root', root, 'write-manifest', 'hnsw']);
    assert.deepEqual(
      readdirSync(v).sort(),
      ['chunks.parquet', 'faiss.index'],
      'nothing derived before the refusal',
    );
    assert.equal(res.code, 2);
    assert.match(
      res.stderr,
      /cannot derive the factory string of IndexIDMap2<IndexHNSWFlat> from the file: pass --factory/,
    );
  });

  it('refuses an index without IndexIDMap2 (exit 3)', () => {
    pythonVersion(root, 'bare', 'Flat', 'none');
    const res = runCli(['--root', root, 'write-manifest', 'bare']);
    assert.equal(res.code, 3);
    assert.match(res.stderr, /is IndexFlat\w*, not an IndexIDMap2/);
  });

  it('refuses an id map that disagrees with the index, naming the rows (exit 3)', async () => {
    const v = pythonVersion(root, 'skew', 'Flat');
    const wrong = ids.slice();
    wrong[10] = 99n;
    wrong[11] = 98n;
    await writeIdMap(path.join(v, 'idmap.parquet'), wrong);
    await assert.rejects(writeManifest({ root, version: 'skew' }), (err: unknown) => {
      assert.ok(err instanceof InvariantViolationError);
      assert.match(err.message, /differs from faiss\.index's id_map at faiss_row 10, 11 \(2 in all\)/);
      return true;
    });
  });

  it('refuses chunks that do not cover the index (exit 3)', async () => {
    const v = pythonVersion(root, 'cover', 'Flat');
    unlinkSync(path.join(v, 'chunks.parquet'));
    await writeChunks(path.join(v, 'chunks.parquet'), { rows: 1990 });
    await assert.rejects(
      writeManifest({ root, version: 'cover' }),
      /ids in the index with no chunk in chunks\.parquet: 1990007, .*\(10 in all\)/,
    );
  });

  it('reports a missing version (exit 6)', () => {
    assert.equal(runCli(['--root', root, 'write-manifest', 'nope']).code, 6);
  });
});

describe('export-idmap', () => {
  const root = path.join(dir, 'export');

  it('derives idmap.parquet inside an unsealed version, and refuses to touch a sealed one', async () => {
    const v = pythonVersion(root, 'e1', 'Flat');
    const report = await exportIdMap({ root, version: 'e1' });
    assert.equal(report.rows, 2000);
    assert.deepEqual((await readIdMap(path.join(v, 'idmap.parquet'))).externalId, ids);
    await writeManifest({ root, version: 'e1' });
    await assert.rejects(exportIdMap({ root, version: 'e1' }), UsageError);
    const res = runCli(['--root', root, 'export-idmap', 'e1']);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /sealed .* --out FILE/);
  });

  it('writes elsewhere with --out, with faiss_row 0..n-1 in row order', async () => {
    const out = path.join(dir, 'exported.parquet');
    const res = runCli(['--root', root, 'export-idmap', 'e1', '--out', out, '--json']);
    assert.equal(res.code, 0, res.stderr);
    const map = await readIdMap(out);
    assert.deepEqual(map.externalId, ids);
    assert.deepEqual(
      map.faissRow,
      BigInt64Array.from({ length: 2000 }, (_, i) => BigInt(i)),
    );
  });

  it('replaces an existing --out file whole, and refuses a path inside versions/ (exit 2)', async () => {
    const out = path.join(dir, 'replaced', 'idmap.parquet');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, 'an older export');
    assert.equal(runCli(['--root', root, 'export-idmap', 'e1', '--out', out]).code, 0);
    assert.deepEqual((await readIdMap(out)).externalId, ids);
    assert.deepEqual(readdirSync(path.dirname(out)), ['idmap.parquet'], 'no temp file left');

    const sealed = path.join(root, 'versions/e1/idmap.parquet');
    const before = readFileSync(sealed);
    const res = runCli(['--root', root, 'export-idmap', 'e1', '--out', sealed]);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /inside versions\/, whose directories are immutable/);
    assert.deepEqual(readFileSync(sealed), before);
  });
});
