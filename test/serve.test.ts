/**
 * `indexctl serve` driven by the MCP SDK's own Client: over stdio (the client spawns
 * `node bin/indexctl.js serve`) and over streamable HTTP. tools/list, each tool, bad input, text
 * search on a sample-embedded version, and publishes/rollbacks by the CLI in another process
 * during a stream of calls, none of which may fail or mix versions.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

import { build } from '../src/core/build/build.js';
import { flipCurrent } from '../src/core/layout.js';
import { readManifest } from '../src/core/manifest/schema.js';
import { EMBEDDER } from '../src/core/sample/embed.js';
import { sampleChunks } from '../src/core/sample/sample-chunks.js';
import { bin } from './helpers/cli.js';
import { FLIP_DIM, buildFlipRoot, flipLoop, versionOfIds } from './helpers/flip-versions.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const root = path.join(dir, 'root');
const textRoot = path.join(dir, 'text-root');

interface Hit {
  rank: number;
  id: string;
  uri: string | null;
  lang: string | null;
  start_line: number | null;
  end_line: number | null;
  score: number;
  faiss_row: string | null;
}
interface SearchResult {
  version: string;
  metric: string;
  k: number;
  query: { kind: string; id?: string };
  hits: Hit[];
}

before(async () => {
  await buildFlipRoot(root);
  // A version embedded by the built-in embedder, recorded in its manifest: text queries work on it.
  const src = path.join(dir, 'src');
  mkdirSync(src);
  writeFileSync(
    path.join(src, 'parse.ts'),
    'export function parseConfigFile(path: string) {\n  return readJson(path);\n}\n',
  );
  writeFileSync(
    path.join(src, 'draw.ts'),
    'export function drawCircle(radius: number) {\n  canvas.arc(radius);\n}\n',
  );
  writeFileSync(
    path.join(src, 'sum.py'),
    'def total_price(items):\n    return sum(i.price for i in items)\n',
  );
  const chunks = path.join(dir, 'sample.parquet');
  await sampleChunks({ from: src, out: chunks, dim: 32, window: 3, overlap: 0 });
  await build({ root: textRoot, chunks, factory: 'Flat', version: 't1', metric: 'cosine' });
  // build records the sample embedder in the manifest (attrs.embedder): text queries work on it.
  const manifest = await readManifest(path.join(textRoot, 'versions', 't1'));
  assert.deepEqual(manifest.attrs?.embedder, { name: EMBEDDER, dim: 32 });
  await flipCurrent(textRoot, 't1');
});

function stdioClient(serveRoot: string, ...extra: string[]): Promise<Client> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [bin, '--root', serveRoot, 'serve', ...extra],
    stderr: 'ignore',
  });
  const client = new Client({ name: 'indexctl-test', version: '0' });
  return client.connect(transport).then(() => client);
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
}

async function ok<T>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await call(client, name, args);
  assert.ok(!result.isError, `${name} ${JSON.stringify(args)} failed: ${textOf(result)}`);
  // The same document as structured content and as text.
  assert.deepEqual(JSON.parse(textOf(result)), result.structuredContent);
  return result.structuredContent as T;
}

async function refused(client: Client, name: string, args: Record<string, unknown>, pattern: RegExp) {
  const result = await call(client, name, args);
  assert.equal(result.isError, true, `${name} ${JSON.stringify(args)} should fail`);
  assert.match(textOf(result), pattern);
}

describe('indexctl serve over stdio', () => {
  let client: Client;
  before(async () => {
    await flipCurrent(root, 'a');
    client = await stdioClient(root);
  });
  after(() => client?.close());

  it('tools/list names search, fetch and status, each with input and output schemas, read-only', async () => {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ['fetch', 'search', 'status']);
    for (const tool of tools) {
      assert.equal(tool.inputSchema.type, 'object');
      assert.equal(tool.outputSchema?.type, 'object');
      assert.equal(tool.annotations?.readOnlyHint, true);
    }
    const search = tools.find((t) => t.name === 'search')!;
    assert.deepEqual(Object.keys(search.inputSchema.properties ?? {}).sort(), ['id', 'k', 'text', 'vector']);
  });

  it('status: the version served, its factory, dimension, vectors and tuning', async () => {
    const status = await ok<Record<string, unknown>>(client, 'status', {});
    assert.equal(status.version, 'a');
    assert.equal(status.root, root);
    assert.equal(status.factory, 'IDMap2,Flat');
    assert.equal(status.metric, 'l2');
    assert.equal(status.dim, FLIP_DIM);
    assert.equal(status.vectors, 200);
    assert.equal(status.tuning, null);
    assert.equal(status.text_search, false);
    assert.deepEqual(status.follow, { switches: 0, errors: 0, last_error: null });
  });

  it('search by chunk id: hydrated hits, the chunk itself first', async () => {
    const res = await ok<SearchResult>(client, 'search', { id: '7007', k: 5 });
    assert.equal(res.version, 'a');
    assert.deepEqual(res.query, { kind: 'id', id: '7007' });
    assert.equal(res.hits.length, 5);
    assert.deepEqual(res.hits[0], {
      rank: 1,
      id: '7007',
      uri: 'src/f7.ts',
      lang: 'typescript',
      start_line: 70,
      end_line: 79,
      score: 0,
      faiss_row: '7',
    });
    assert.equal(versionOfIds(res.hits.map((h) => h.id)), 'a');
    // Integer ids are accepted too, and k defaults to 10.
    const byNumber = await ok<SearchResult>(client, 'search', { id: 7007 });
    assert.equal(byNumber.hits.length, 10);
    assert.deepEqual(byNumber.hits.slice(0, 5), res.hits);
  });

  it('search by vector', async () => {
    const res = await ok<SearchResult>(client, 'search', {
      vector: Array.from({ length: FLIP_DIM }, () => 0.1),
      k: 3,
    });
    assert.equal(res.hits.length, 3);
    assert.deepEqual(res.query, { kind: 'vector' });
    assert.deepEqual(
      res.hits.map((h) => h.rank),
      [1, 2, 3],
    );
  });

  it('fetch: chunks with their text, in the order asked, missing ids reported', async () => {
    const res = await ok<{ version: string; chunks: { id: string; text: string }[]; missing: string[] }>(
      client,
      'fetch',
      { ids: ['2007', '999', 7, '2007'] },
    );
    assert.equal(res.version, 'a');
    assert.deepEqual(
      res.chunks.map((c) => [c.id, c.text]),
      [
        ['2007', 'chunk 2'],
        ['7', 'chunk 0'],
        ['2007', 'chunk 2'],
      ],
    );
    assert.deepEqual(res.missing, ['999']);
  });

  it('bad input: a precise error, and the server goes on answering', async () => {
    await refused(
      client,
      'search',
      { vector: [1, 2, 3] },
      /BadInputError: search: vector has 3 values; version a has dimension 8/,
    );
    await refused(client, 'search', { id: '7007', k: 0 }, /Input validation error: .*k/s);
    await refused(client, 'search', { id: '7007', k: 1001 }, /Input validation error: .*k/s);
    await refused(
      client,
      'search',
      { id: '999' },
      /NotFoundError: search: unknown chunk id 999: no embedding in version a/,
    );
    await refused(
      client,
      'search',
      { id: '9223372036854775808' },
      /not a chunk id \(an integer in \[0, 2\^63-1\]\)/,
    );
    await refused(client, 'search', { id: '-1' }, /Input validation error/);
    await refused(
      client,
      'search',
      { id: '7', vector: [1] },
      /exactly one of vector, id or text, got vector and id/,
    );
    await refused(client, 'search', {}, /exactly one of vector, id or text/);
    await refused(client, 'search', { text: 'parse config' }, /version a cannot be searched by text/);
    await refused(client, 'fetch', { ids: [] }, /Input validation error: .*ids/s);
    await refused(client, 'fetch', { ids: ['x'] }, /Input validation error/);
    await refused(client, 'nope', {}, /Tool nope not found/);
    assert.equal((await ok<SearchResult>(client, 'search', { id: '7', k: 1 })).hits[0]!.id, '7');
  });
});

describe('indexctl serve: text search', () => {
  it('embeds text with the built-in embedder when the manifest records it', async () => {
    const client = await stdioClient(textRoot);
    try {
      const status = await ok<{ text_search: boolean; dim: number }>(client, 'status', {});
      assert.deepEqual([status.text_search, status.dim], [true, 32]);
      const res = await ok<SearchResult>(client, 'search', { text: 'parseConfigFile readJson', k: 2 });
      assert.deepEqual(res.query, { kind: 'text' });
      assert.equal(res.hits[0]!.uri, 'parse.ts');
      await refused(client, 'search', { text: '!!! ...' }, /has no words to search for/);
      await refused(client, 'search', { vector: [1, 2] }, /vector has 2 values; version t1 has dimension 32/);
    } finally {
      await client.close();
    }
  });
});

describe('indexctl serve: the process', () => {
  it('exits 0 when stdin ends, with nothing but MCP on stdout', async () => {
    await flipCurrent(root, 'a');
    const res = spawnSync(process.execPath, [bin, '--root', root, 'serve'], { input: '', encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /serving version a of /);
    assert.match(res.stderr, /served a: 0 calls \(0 failed\), 0 switches, 0 follow errors/);
  });

  it('a root without CURRENT: exit 6 before serving', () => {
    const res = spawnSync(process.execPath, [bin, '--root', path.join(dir, 'none'), 'serve'], {
      input: '',
      encoding: 'utf8',
    });
    assert.equal(res.status, 6, res.stderr);
    assert.match(res.stderr, /index root not found/);
  });
});

/** Starts `serve --http 127.0.0.1:0` and resolves with the process and the URL it prints. */
function startHttp(
  serveRoot: string,
): Promise<{ child: ChildProcessWithoutNullStreams; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [
    bin,
    '--root',
    serveRoot,
    '--json',
    'serve',
    '--http',
    '127.0.0.1:0',
    '--poll-interval',
    '50',
  ]);
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) resolve({ child, url: m[1]!, stderr: () => stderr });
    });
    child.on('exit', (code) => reject(new Error(`serve exited ${code} before listening: ${stderr}`)));
  });
}

describe('indexctl serve --http', () => {
  it('answers the SDK client; a stream of calls across publishes and rollbacks never fails or mixes versions', async (t) => {
    await flipCurrent(root, 'a');
    const { child, url, stderr } = await startHttp(root);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const client = new Client({ name: 'indexctl-test', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    try {
      const { tools } = await client.listTools();
      assert.deepEqual(tools.map((t) => t.name).sort(), ['fetch', 'search', 'status']);

      // Not the MCP endpoint, and not a method a stateless server has.
      assert.equal((await fetch(new URL('/other', url))).status, 404);
      assert.equal((await fetch(url)).status, 405);

      const loop = flipLoop(root, 2);
      let finished = false;
      const ended = loop.done.then((r) => ((finished = true), r));
      const versions = new Set<string>();
      let calls = 0;
      while (!finished) {
        // A few calls at once, as an agent's parallel tool calls come.
        const batch = await Promise.all([
          call(client, 'search', { vector: Array.from({ length: FLIP_DIM }, () => -0.2), k: 5 }),
          call(client, 'search', { vector: Array.from({ length: FLIP_DIM }, (_, i) => i / 10), k: 5 }),
          call(client, 'fetch', { ids: ['7', '10000001'] }),
        ]);
        for (const result of batch) {
          assert.ok(!result.isError, textOf(result));
          const doc = result.structuredContent as {
            version: string;
            hits?: Hit[];
            chunks?: { id: string }[];
          };
          versions.add(doc.version);
          if (doc.hits) assert.equal(versionOfIds(doc.hits.map((h) => h.id)), doc.version);
          // Chunk 7 exists only in a, 10000001 only in b: fetch answers from the version it names.
          if (doc.chunks)
            assert.deepEqual(
              doc.chunks.map((c) => versionOfIds([c.id])),
              [doc.version],
            );
        }
        calls += batch.length;
      }
      const result = await ended;
      assert.equal(result.code, 0, result.output);
      // CURRENT is b now; the server gets there (the watch, or the next poll).
      let status = await ok<{ version: string; follow: { switches: number; errors: number } }>(
        client,
        'status',
        {},
      );
      for (let i = 0; i < 200 && status.version !== 'b'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = await ok(client, 'status', {});
      }
      assert.equal(status.version, 'b');
      assert.ok(status.follow.switches >= 1);
      assert.equal(status.follow.errors, 0);
      versions.add('b');
      assert.deepEqual([...versions].sort(), ['a', 'b']);
      assert.ok(calls > 0);
      t.diagnostic(`${calls} calls during 5 flips; ${status.follow.switches} switches`);
    } finally {
      await client.close();
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, stderr());
    const summary = JSON.parse(stdout) as Record<string, unknown>;
    assert.equal(summary.schema, 'indexctl.serve/1');
    assert.equal(summary.transport, 'http');
    assert.equal(summary.first_version, 'a');
    assert.equal(summary.last_version, 'b');
    assert.equal(summary.failed_calls, 0);
  });
});
