/**
 * Finding something to search: `chunks` lists a version's chunk ids (filtered by uri glob and
 * language), and `search --text` embeds words with the built-in embedder for versions whose
 * manifest records it (`sample` writes it into the chunks file's metadata, `build` into
 * attrs.embedder); every other version refuses --text with exit 2.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { EMBEDDER } from '../src/core/sample/embed.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const tree = path.join(dir, 'tree');
mkdirSync(path.join(tree, 'src', 'lib'), { recursive: true });
writeFileSync(
  path.join(tree, 'src', 'lib', 'walrus.ts'),
  'export function feedTheWalrus(herring: number) {\n  return herring * 2; // walrus herring banquet\n}\n',
);
writeFileSync(
  path.join(tree, 'src', 'kettle.py'),
  'def boil_kettle(water):\n    return water + 1  # kettle steam whistle\n',
);
writeFileSync(path.join(tree, 'README.md'), '# Notes\n\nNothing about sea mammals here, only prose.\n');

const root = path.join(dir, 'root');
const sampled = path.join(dir, 'sampled.parquet');
const foreign = path.join(dir, 'foreign.parquet');

function cli(...args: string[]) {
  return runCli(['--root', root, ...args]);
}

function ok(...args: string[]): string {
  const res = cli(...args);
  assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
  return res.stdout;
}

interface ChunksDoc {
  total: number;
  chunks: { id: string; uri: string; lang: string; start_line: number; end_line: number }[];
}

describe('chunks and search --text', () => {
  it('build records the sample embedder; other chunks files record none', async () => {
    assert.equal(runCli(['sample', '--from', tree, '--out', sampled, '--dim', '64']).code, 0);
    await writeChunks(foreign, { rows: 300, dim: 64 });
    ok('build', '--chunks', sampled, '--factory', 'Flat', '--metric', 'cosine', '--version', 'words');
    ok('build', '--chunks', foreign, '--factory', 'Flat', '--version', 'vectors');
    const attrs = (v: string) =>
      (
        JSON.parse(readFileSync(path.join(root, 'versions', v, 'manifest.json'), 'utf8')) as {
          attrs: Record<string, unknown>;
        }
      ).attrs;
    assert.deepEqual(attrs('words').embedder, { name: EMBEDDER, dim: 64 });
    assert.equal(attrs('vectors').embedder, undefined);
    ok('publish', 'words');
  });

  it('chunks lists ids, uris, lines and langs, filtered by uri glob and language, with a total', () => {
    const all = JSON.parse(ok('chunks', '--json')) as ChunksDoc;
    assert.deepEqual(
      all.chunks.map((c) => [c.uri, c.lang]),
      [
        ['README.md', 'markdown'],
        ['src/kettle.py', 'python'],
        ['src/lib/walrus.ts', 'typescript'],
      ],
    );
    assert.equal(all.total, 3);
    assert.match(all.chunks[2]!.id, /^-?\d+$/);
    const ts = JSON.parse(
      ok('chunks', 'words', '--uri', 'src/*', '--lang', 'typescript', '--json'),
    ) as ChunksDoc;
    assert.deepEqual(
      ts.chunks.map((c) => c.uri),
      ['src/lib/walrus.ts'],
    );
    const limited = JSON.parse(ok('chunks', '--uri', 'src/*', '--limit', '1', '--json')) as ChunksDoc;
    assert.deepEqual([limited.total, limited.chunks.length], [2, 1]);
    // The glob is a bound value: SQL in it is just characters that match nothing.
    const hostile = JSON.parse(ok('chunks', '--uri', "x' OR 1=1 --", '--json')) as ChunksDoc;
    assert.deepEqual([hostile.total, hostile.chunks], [0, []]);
    const text = ok('chunks', '--uri', '*.py');
    assert.match(text, /version words: 1 chunks matching uri \*\.py/);
    assert.match(text, /src\/kettle\.py\s+1-2\s+python/);
  });

  it('search --text finds the chunk with those words first', () => {
    const walrus = (JSON.parse(ok('chunks', '--uri', '*walrus*', '--json')) as ChunksDoc).chunks[0]!;
    const res = JSON.parse(ok('search', '--text', 'feed the walrus herring', '--k', '3', '--json')) as {
      queries: { query_id: string; hits: { id: string; uri: string }[] }[];
    };
    assert.equal(res.queries[0]!.query_id, 'text:"feed the walrus herring"');
    assert.deepEqual(
      [res.queries[0]!.hits[0]!.id, res.queries[0]!.hits[0]!.uri],
      [walrus.id, 'src/lib/walrus.ts'],
    );
    // The id that chunks printed is a query too.
    assert.equal(cli('search', '--id', walrus.id, '--k', '1').code, 0);
  });

  it('refuses --text (exit 2) for a version without the built-in embedder, and words-free text', () => {
    const res = cli('search', 'vectors', '--text', 'walrus');
    assert.equal(res.code, 2, res.stderr);
    assert.match(
      res.stderr,
      /version vectors records no embedder; --text embeds words with the built-in indexctl-feature-hash\/1 \(dim 64\)/,
    );
    assert.match(res.stderr, /--id ID or --vector-file FILE/);
    const empty = cli('search', '--text', '  ?! ');
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /has no words to search for/);
    const both = cli('search', '--text', 'x', '--id', '7');
    assert.equal(both.code, 2);
    const missing = cli('chunks', 'nope');
    assert.equal(missing.code, 6, missing.stderr);
  });
});
