import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { FixedSizeList, tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm';

import { BadInputError, InvariantViolationError, NotFoundError, UsageError } from '../src/core/errors.js';
import { embedText, hashToken, tokenize } from '../src/core/sample/embed.js';
import { chunkIdHasher, UniqueIds } from '../src/core/sample/ids.js';
import { langFromPath } from '../src/core/sample/lang.js';
import { sampleChunks } from '../src/core/sample/sample-chunks.js';
import { cutWindows } from '../src/core/sample/windows.js';
import { runCli } from './helpers/cli.js';
import { sharedDuckDB } from './helpers/duckdb-parquet.js';
import { tmpDir } from './helpers/tmp.js';

const duckdb = sharedDuckDB();

async function rows(file: string, sql: string): Promise<Record<string, unknown>[]> {
  return (await duckdb().runAndReadAll(sql, { file })).getRowObjectsJS();
}

function write(root: string, rel: string, content: string | Buffer): void {
  const file = path.join(root, rel);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, content);
}

/** 100 lines of TypeScript whose identifiers depend on `seed`. */
function source(seed: string): string {
  return Array.from(
    { length: 100 },
    (_, i) => `export function ${seed}Handler${i}(request_${i}: Req) { return ${i}; }`,
  )
    .map((line) => `${line}\n`)
    .join('');
}

/** A small tree with everything sample must skip next to what it must read. */
function makeTree(): string {
  const root = tmpDir();
  write(root, 'src/app.ts', source('fetchUser'));
  write(root, 'copy/app-copy.ts', source('fetchUser'));
  write(
    root,
    'src/deep/er/still/model.py',
    'class UserModel:\n    def save(self):\n        return self.user_id\n',
  );
  write(root, 'README.md', '# Demo\n\nSome words about parsing.\n');
  write(root, 'bin/data.bin', Buffer.from([0x68, 0x69, 0x00, 0x01, 0x02]));
  write(root, 'latin1.txt', Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
  write(root, 'node_modules/pkg/index.js', 'module.exports = 1;\n');
  write(root, 'src/node_modules/inner.js', 'module.exports = 2;\n');
  write(root, '.git/config', '[core]\n');
  write(root, 'dist/out.js', 'var x = 1;\n');
  write(root, 'build/gen.c', 'int main() {}\n');
  write(root, 'big.txt', 'word '.repeat(220_000));
  write(root, 'punctuation.txt', '{}\n();\n\n');
  symlinkSync(path.join(root, 'src/app.ts'), path.join(root, 'src/link.ts'));
  return root;
}

describe('sampleChunks', () => {
  const root = makeTree();
  const out = path.join(tmpDir(), 'chunks.parquet');

  test('reads the text files, skips the rest, and reports what it did', async () => {
    const result = await sampleChunks({ from: root, out });
    assert.deepEqual(
      { ...result, bytes: result.bytes > 0 },
      {
        files: 4,
        chunks: 3 + 3 + 1 + 1,
        dim: 384,
        bytes: true,
        out,
        skipped: { symlinks: 1, tooLarge: 1, special: 0, binary: 2, empty: 1 },
      },
    );
    assert.equal(result.bytes, readFileSync(out).length);
    const uris = await rows(out, 'SELECT DISTINCT uri, lang FROM read_parquet($file) ORDER BY uri');
    assert.deepEqual(uris, [
      { uri: 'README.md', lang: 'markdown' },
      { uri: 'copy/app-copy.ts', lang: 'typescript' },
      { uri: 'src/app.ts', lang: 'typescript' },
      { uri: 'src/deep/er/still/model.py', lang: 'python' },
    ]);
  });

  test('the Parquet file has the documented types, dim and order', async () => {
    const described = await rows(out, 'DESCRIBE SELECT * FROM read_parquet($file)');
    assert.deepEqual(
      described.map((row) => [row.column_name, row.column_type]),
      [
        ['id', 'BIGINT'],
        ['uri', 'VARCHAR'],
        ['lang', 'VARCHAR'],
        ['start_line', 'INTEGER'],
        ['end_line', 'INTEGER'],
        ['text', 'VARCHAR'],
        ['embedding', 'FLOAT[]'],
      ],
    );
    const [stats] = await rows(
      out,
      `SELECT count(*) AS n, count(DISTINCT id) AS ids, min(id) AS min_id, min(len(embedding)) AS lo,
              max(len(embedding)) AS hi, max(abs(list_dot_product(embedding, embedding) - 1)) AS norm_err
         FROM read_parquet($file)`,
    );
    assert.equal(stats!.n, 8n);
    assert.equal(stats!.ids, 8n);
    assert.ok((stats!.min_id as bigint) >= 0n);
    assert.equal(stats!.lo, 384n);
    assert.equal(stats!.hi, 384n);
    assert.ok((stats!.norm_err as number) < 1e-5);

    const windows = await rows(
      out,
      "SELECT start_line, end_line FROM read_parquet($file) WHERE uri = 'src/app.ts'",
    );
    assert.deepEqual(
      windows.map((row) => [row.start_line, row.end_line]),
      [
        [1, 40],
        [31, 70],
        [61, 100],
      ],
    );
    const order = await rows(out, 'SELECT uri, start_line FROM read_parquet($file)');
    const sorted = [...order].sort((a, b) =>
      a.uri === b.uri
        ? (a.start_line as number) - (b.start_line as number)
        : String(a.uri) < String(b.uri)
          ? -1
          : 1,
    );
    assert.deepEqual(order, sorted);

    // Arrow readers see a FixedSizeList<Float32, 384>.
    const table = tableFromIPC(readParquet(readFileSync(out)).intoIPCStream());
    const embedding = table.schema.fields.find((field) => field.name === 'embedding')!;
    assert.ok(embedding.type instanceof FixedSizeList);
    assert.equal((embedding.type as FixedSizeList).listSize, 384);
  });

  test('the same tree gives a byte-identical file, also when the old output sits inside the tree', async () => {
    const again = path.join(tmpDir(), 'again.parquet');
    await sampleChunks({ from: root, out: again });
    assert.deepEqual(readFileSync(again), readFileSync(out));

    const inside = path.join(root, 'chunks.parquet');
    const first = await sampleChunks({ from: root, out: inside });
    const bytes = readFileSync(inside);
    const second = await sampleChunks({ from: root, out: inside });
    assert.deepEqual(second, first);
    assert.deepEqual(readFileSync(inside), bytes);
    assert.deepEqual(readFileSync(inside), readFileSync(out));
    assert.deepEqual(
      readdirSync(root).filter((name) => name.includes('chunks.parquet')),
      ['chunks.parquet'],
    );
  });

  test('identical files embed identically with different ids; different files differ', async () => {
    const pairs = await rows(
      out,
      `SELECT a.id AS a_id, b.id AS b_id, a.embedding = b.embedding AS same
         FROM read_parquet($file) a JOIN read_parquet($file) b USING (start_line)
        WHERE a.uri = 'src/app.ts' AND b.uri = 'copy/app-copy.ts'`,
    );
    assert.equal(pairs.length, 3);
    for (const pair of pairs) {
      assert.equal(pair.same, true);
      assert.notEqual(pair.a_id, pair.b_id);
    }
    const [cross] = await rows(
      out,
      `SELECT max(list_dot_product(a.embedding, b.embedding)) AS best
         FROM read_parquet($file) a, read_parquet($file) b
        WHERE a.uri = 'src/app.ts' AND b.uri = 'src/deep/er/still/model.py'`,
    );
    assert.ok((cross!.best as number) < 0.5, String(cross!.best));
  });

  test('dim, window, overlap and row groups are honoured', async () => {
    const small = path.join(tmpDir(), 'small.parquet');
    const result = await sampleChunks({
      from: root,
      out: small,
      dim: 16,
      window: 50,
      overlap: 0,
      rowGroupSize: 3,
    });
    assert.equal(result.dim, 16);
    assert.equal(result.chunks, 2 + 2 + 1 + 1);
    const [lengths] = await rows(
      small,
      'SELECT min(len(embedding)) AS lo, max(len(embedding)) AS hi FROM read_parquet($file)',
    );
    assert.deepEqual(lengths, { lo: 16n, hi: 16n });
    const groups = await rows(
      small,
      'SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata($file) ORDER BY 1',
    );
    assert.deepEqual(
      groups.map((group) => group.row_group_num_rows),
      [3n, 3n],
    );
    const windows = await rows(
      small,
      "SELECT start_line, end_line FROM read_parquet($file) WHERE uri = 'src/app.ts'",
    );
    assert.deepEqual(
      windows.map((row) => [row.start_line, row.end_line]),
      [
        [1, 50],
        [51, 100],
      ],
    );
  });

  test('bad options and bad trees are refused without writing a file', async () => {
    const target = path.join(tmpDir(), 'never.parquet');
    await assert.rejects(sampleChunks({ from: path.join(root, 'missing'), out: target }), NotFoundError);
    await assert.rejects(sampleChunks({ from: path.join(root, 'README.md'), out: target }), BadInputError);
    await assert.rejects(sampleChunks({ from: root, out: target, dim: 0 }), UsageError);
    await assert.rejects(sampleChunks({ from: root, out: target, dim: 1.5 }), UsageError);
    await assert.rejects(sampleChunks({ from: root, out: target, window: 10, overlap: 10 }), UsageError);
    await assert.rejects(sampleChunks({ from: root, out: target, overlap: -1 }), UsageError);
    const binaries = tmpDir();
    write(binaries, 'a.bin', Buffer.from([0, 1, 2]));
    write(binaries, 'empty.txt', '');
    await assert.rejects(sampleChunks({ from: binaries, out: target }), /no text to sample/);
    assert.ok(!existsSync(target));
    assert.deepEqual(readdirSync(path.dirname(target)), []);
  });
});

describe('embedder', () => {
  test('tokens: words lowercased plus camelCase and snake_case parts', () => {
    assert.deepEqual(tokenize('getHTTPResponse user_id utf8 x'), [
      'gethttpresponse',
      'get',
      'http',
      'response',
      'user_id',
      'user',
      'id',
      'utf8',
      'x',
    ]);
    assert.deepEqual(tokenize('  {}();  '), []);
  });

  test('hashing is FNV-1a over UTF-8 then fmix32: fixed values', () => {
    assert.equal(hashToken(''), hashToken(''));
    assert.notEqual(hashToken('a'), hashToken('b'));
    assert.equal(hashToken('é'), hashToken('\u00e9'));
    assert.notEqual(hashToken('é'), hashToken('e\u0301'));
    for (const token of ['', 'a', 'user', '名前', '😀']) {
      const h = hashToken(token);
      assert.ok(Number.isInteger(h) && h >= 0 && h < 2 ** 32);
    }
  });

  test('embeddings are unit length, deterministic, and absent for text without tokens', () => {
    const a = new Float32Array(64);
    const b = new Float32Array(64);
    assert.equal(embedText('const userName = fetchUser(id);', 64, a), true);
    assert.equal(embedText('const userName = fetchUser(id);', 64, b), true);
    assert.deepEqual(a, b);
    const norm = Math.sqrt(a.reduce((sum, x) => sum + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-6);
    const untouched = new Float32Array(64).fill(7);
    assert.equal(embedText('{ } ( ) ;', 64, untouched), false);
    assert.ok(untouched.every((x) => x === 7));
    const offset = new Float32Array(128);
    embedText('const userName = fetchUser(id);', 64, offset, 64);
    assert.deepEqual(offset.subarray(64), a);
    assert.ok(offset.subarray(0, 64).every((x) => x === 0));
  });
});

describe('windows, lang, ids', () => {
  test('windows overlap, end at the last line, and ignore a trailing newline', () => {
    const text = Array.from({ length: 7 }, (_, i) => `l${i + 1}`).join('\r\n') + '\r\n';
    assert.deepEqual(
      cutWindows(text, 4, 1).map((w) => [w.startLine, w.endLine, w.text]),
      [
        [1, 4, 'l1\nl2\nl3\nl4'],
        [4, 7, 'l4\nl5\nl6\nl7'],
      ],
    );
    assert.deepEqual(
      cutWindows('only', 40, 10).map((w) => [w.startLine, w.endLine]),
      [[1, 1]],
    );
    assert.deepEqual(cutWindows('', 40, 10), []);
    assert.equal(cutWindows('a\n\nb', 40, 10)[0]!.endLine, 3);
  });

  test('lang comes from the file name', () => {
    assert.equal(langFromPath('src/a.ts'), 'typescript');
    assert.equal(langFromPath('x/Makefile'), 'make');
    assert.equal(langFromPath('native/index.CC'), 'cpp');
    assert.equal(langFromPath('LICENSE'), 'text');
  });

  test('ids are non-negative, stable, and a repeat is refused loudly', async () => {
    const hash = await chunkIdHasher();
    const id = hash('src/a.ts', 31);
    assert.equal(id, hash('src/a.ts', 31));
    assert.notEqual(id, hash('src/a.ts', 1));
    assert.notEqual(id, hash('src/a.ts3', 1));
    assert.ok(id >= 0n && id < 1n << 63n);
    const unique = new UniqueIds();
    unique.claim(id, 'src/a.ts', 31);
    assert.throws(
      () => unique.claim(id, 'src/b.ts', 1),
      (err: Error) => {
        assert.ok(err instanceof InvariantViolationError);
        assert.match(err.message, /src\/b\.ts:1 collides with src\/a\.ts:31/);
        return true;
      },
    );
  });
});

describe('indexctl sample', () => {
  const root = makeTree();

  test('--json prints one indexctl.sample/1 document', () => {
    const out = path.join(tmpDir(), 'cli.parquet');
    const res = runCli(['sample', '--from', root, '--out', out, '--dim', '32', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const json = JSON.parse(res.stdout) as Record<string, unknown>;
    assert.equal(json.schema, 'indexctl.sample/1');
    assert.equal(json.dim, 32);
    assert.equal(json.chunks, 8);
    assert.equal(json.out, out);
    assert.equal(res.stderr, '');
  });

  test('prints a one-line summary and the skipped files on stderr', () => {
    const out = path.join(tmpDir(), 'cli.parquet');
    const res = runCli(['sample', '--from', root, '--out', out]);
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stdout,
      /^sampled 8 chunks from 4 files \(dim 384\) -> .*cli\.parquet \(.* MiB\) in .* s\n$/,
    );
    assert.match(res.stderr, /skipped 2 binary, 1 over 1 MiB, 1 symlinks/);
  });

  test('usage errors exit 2 and a missing tree exits 6', () => {
    const out = path.join(tmpDir(), 'cli.parquet');
    const noFrom = runCli(['sample', '--out', out]);
    assert.equal(noFrom.code, 2);
    assert.match(noFrom.stderr, /required option '--from <dir>' not specified/);
    assert.equal(runCli(['sample', '--from', root]).code, 2);
    const dim = runCli(['sample', '--from', root, '--out', out, '--dim', 'x']);
    assert.equal(dim.code, 2);
    assert.match(dim.stderr, /option '--dim <n>' argument 'x' is invalid\. must be an integer >= 1/);
    assert.equal(runCli(['sample', '--from', root, '--out', out, '--dim', '0']).code, 2);
    assert.equal(runCli(['sample', '--from', path.join(root, 'nope'), '--out', out]).code, 6);
    assert.ok(!existsSync(out));
  });
});
