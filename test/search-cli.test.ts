/** `indexctl search` end to end: --id, --vector-file, --pool-out joined with the catalog, exit codes. */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { build } from '../src/core/build/build.js';
import { openCatalog } from '../src/core/catalog/open.js';
import { flipCurrent } from '../src/core/layout.js';
import { seededVectors } from '../src/core/util/random.js';
import type { SearchJson } from '../src/commands/search.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { setTuning } from './helpers/families.js';
import { writeRaw } from './helpers/python.js';
import { tmpDir } from './helpers/tmp.js';
import { corruptByte } from './helpers/versions.js';

const dir = tmpDir();
const root = path.join(dir, 'root');
const D = 16;

before(async () => {
  const chunks = path.join(dir, 'chunks.parquet');
  await writeChunks(chunks, { rows: 3000, dim: D });
  await build({ root, chunks, factory: 'IVF16,Flat', version: 'ivf' });
  await build({ root, chunks, factory: 'Flat', version: 'flat' });
  await setTuning(root, 'ivf', { family: 'ivf_flat', k: 10, nprobe: 4 });
  await flipCurrent(root, 'flat');
});

function search(...args: string[]) {
  return runCli(['--root', root, 'search', ...args]);
}

function json(res: ReturnType<typeof runCli>): SearchJson {
  assert.equal(res.code, 0, res.stderr);
  return JSON.parse(res.stdout) as SearchJson;
}

describe('search (CLI)', () => {
  it("--id searches with the chunk's stored embedding, with the version's tuning; ids are strings in JSON", () => {
    const doc = json(search('ivf', '--id', '7', '--k', '5', '--json'));
    assert.equal(doc.schema, 'indexctl.search/1');
    assert.equal(doc.version, 'ivf');
    assert.equal(doc.params, 'nprobe=4');
    assert.equal(doc.score_order, 'lower is better');
    assert.equal(doc.queries.length, 1);
    const [q] = doc.queries;
    assert.equal(q!.query_id, '7');
    assert.equal(q!.hits.length, 5);
    assert.deepEqual(q!.hits[0], {
      rank: 1,
      id: '7',
      score: 0,
      uri: 'src/f0.ts',
      lang: 'typescript',
      start_line: 0,
      end_line: 9,
      faiss_row: '0',
    });
  });

  it('searches CURRENT by default or with --current, and prints a table', () => {
    assert.equal(json(search('--id', '7', '--json')).version, 'flat');
    assert.equal(json(search('--current', '--id', '7', '--json')).version, 'flat');
    const text = search('--id', '1007', '--k', '3');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /version flat: IDMap2,Flat, l2 \(score: lower is better\)/);
    assert.match(text.stdout, /query 1007: 3 hits/);
    // A pipe gets plain aligned text, no box-drawing characters.
    assert.match(text.stdout, /^ +1 +1007 +0\.00000 +src\/f1\.ts +10-19 +typescript +1$/m);
    assert.doesNotMatch(text.stdout, /[│─┌┐└┘]/);
  });

  it('--vector-file --pool-out appends a part per run to a pool directory; rows join v_faiss_join on chunk_id = id', async () => {
    const qfile = path.join(dir, 'q.f32');
    writeRaw(qfile, seededVectors(3, D, 21));
    const pool = path.join(dir, 'pool');
    const first = json(search('ivf', '--vector-file', qfile, '--k', '4', '--pool-out', pool, '--json'));
    assert.deepEqual(
      first.queries.map((q) => q.query_id),
      ['q.f32#0', 'q.f32#1', 'q.f32#2'],
    );
    assert.equal(first.pool?.rows, 12);
    assert.equal(first.pool?.pool, pool);
    assert.equal(
      json(search('ivf', '--vector-file', qfile, '--k', '4', '--pool-out', pool, '--json')).pool?.rows,
      24,
    );

    const catalog = await openCatalog(path.join(root, 'versions', 'ivf'));
    try {
      const rows = await catalog.query(
        `SELECT p.query_id, p.channel, p.rank, p.chunk_id, p.score, p.explanations, j.uri, j.faiss_row
           FROM read_parquet($glob) p JOIN v_faiss_join j ON j.id = p.chunk_id
          ORDER BY p.query_id, p.rank`,
        { glob: path.join(pool, '*.parquet') },
      );
      assert.equal(rows.length, 24, 'every pool row joins a chunk');
      const hit = first.queries[0]!.hits[0]!;
      const row = rows[0]!;
      assert.equal(row.query_id, 'q.f32#0');
      assert.equal(row.channel, 'faiss');
      assert.equal(row.rank, 1);
      assert.equal(String(row.chunk_id), hit.id);
      assert.equal(row.uri, hit.uri);
      assert.equal(String(row.faiss_row), hit.faiss_row);
      assert.ok(Math.abs((row.score as number) - hit.score) < 1e-6);
      const why = JSON.parse(row.explanations as string) as Record<string, unknown>;
      assert.deepEqual(why, {
        version: 'ivf',
        factory: 'IDMap2,IVF16,Flat',
        metric: 'l2',
        params: 'nprobe=4',
        distance: row.score,
      });
    } finally {
      catalog.close();
    }
  });

  it('--verify-checksum refuses a faiss.index whose bytes changed (exit 4, both checksums); without it the size check alone passes', () => {
    const copy = path.join(dir, 'flipped-root');
    mkdirSync(path.join(copy, 'versions'), { recursive: true });
    cpSync(path.join(root, 'versions', 'flat'), path.join(copy, 'versions', 'flat'), { recursive: true });
    corruptByte(path.join(copy, 'versions', 'flat', 'faiss.index'));
    const args = ['--root', copy, 'search', 'flat', '--id', '7', '--k', '3', '--json'];
    const unchecked = runCli(args);
    assert.equal(unchecked.code, 0, unchecked.stderr);
    const checked = runCli([...args, '--verify-checksum']);
    assert.equal(checked.code, 4, checked.stderr);
    assert.match(checked.stdout, /"exitCode": ?4/);
    assert.match(
      checked.stdout,
      /faiss\.index: checksum xxh64:[0-9a-f]{16}, the manifest records xxh64:[0-9a-f]{16}/,
    );
    assert.equal(
      json(search('flat', '--id', '7', '--k', '3', '--verify-checksum', '--json')).version,
      'flat',
    );
  });

  it('refuses bad usage with exit 2', () => {
    const qfile = path.join(dir, 'q.f32');
    for (const args of [
      ['ivf'],
      ['ivf', '--id', '7', '--vector-file', qfile],
      ['ivf', '--current', '--id', '7'],
      ['ivf', '--id', 'abc'],
      ['ivf', '--id', '-5'],
      ['ivf', '--id', '9223372036854775808'],
      ['ivf', '--id', '7', '--k', '0'],
      ['../ivf', '--id', '7'],
    ]) {
      const res = search(...args);
      assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    }
  });

  it('reports an unknown id, version or CURRENT as not found (6) and a bad vector file as bad input (5)', () => {
    const unknown = search('ivf', '--id', '8');
    assert.equal(unknown.code, 6);
    assert.match(unknown.stderr, /chunk id 8 has no embedding in version ivf/);
    assert.equal(search('nope', '--id', '7').code, 6);
    const bare = path.join(dir, 'bare');
    mkdirSync(path.join(bare, 'versions'), { recursive: true });
    assert.equal(runCli(['--root', bare, 'search', '--id', '7']).code, 6);
    const wrong = path.join(dir, 'wrong.f32');
    writeRaw(wrong, new Float32Array(D - 1));
    const bad = search('ivf', '--vector-file', wrong);
    assert.equal(bad.code, 5);
    assert.match(bad.stderr, /wrong\.f32: 60 bytes is not a whole number of 16-float vectors/);
  });
});
