/**
 * docs/scaling.md's "plain background processes" block, run as written (bash, `indexctl` on PATH)
 * on a small input: train, four shard builds in the background, merge. A shard that fails stops
 * the block once every shard has ended, before the merge, with the failed shard's exit code.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { readIdMap } from '../src/core/parquet/idmap-reader.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { docShellBlock, indexctlBinDir, runShellBlock } from './helpers/doc-blocks.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir('indexctl-scaling-doc-');
const chunks = path.join(dir, 'chunks.parquet');
// 8192 rows in 4 row groups of 2048: one row group per shard.
await writeChunks(chunks, { rows: 8192, dim: 16, rowGroupSize: 2048 });
const binDir = indexctlBinDir(dir);
const block = docShellBlock('scaling.md', '## Plain background processes on one box');

function runBlock(name: string) {
  const work = path.join(dir, name, 'work');
  const root = path.join(dir, name, 'root');
  mkdirSync(path.join(dir, name));
  const vars = { CHUNKS: chunks, WORK: work, ROOT: root, FACTORY: 'IVF16,Flat', N: '4', VERSION: 'v1' };
  return { work, root, run: () => runShellBlock(block, { cwd: path.join(dir, name), binDir, vars }) };
}

describe('docs/scaling.md: plain background processes on one box', () => {
  it('trains, builds four shards in parallel and merges them into a version that passes verify', async () => {
    const { work, root, run } = runBlock('ok');
    const res = await run();
    assert.equal(res.code, 0, `the doc's block: exit ${res.code}\n${res.stderr}`);
    assert.deepEqual(readdirSync(work).sort(), [
      'shard-0',
      'shard-1',
      'shard-2',
      'shard-3',
      'trained.faiss',
      'trained.faiss.json',
    ]);
    const verify = runCli(['--root', root, 'verify', 'v1', '--level', '3']);
    assert.equal(verify.code, 0, verify.stderr);
    const ids = (await readIdMap(path.join(root, 'versions', 'v1', 'idmap.parquet'))).externalId;
    assert.equal(new Set(ids).size, 8192);
  });

  it('a shard that fails stops the block after all shards ended, with its exit code, before the merge', async () => {
    const { work, root, run } = runBlock('failed');
    // Shard 2's directory holds someone else's file: its build refuses it (exit 2).
    mkdirSync(path.join(work, 'shard-2'), { recursive: true });
    writeFileSync(path.join(work, 'shard-2', 'notes.txt'), 'keep me');
    const res = await run();
    assert.equal(res.code, 2, `exit ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, /shard-2: not empty and not a shard directory \(has notes\.txt\)/);
    assert.equal(existsSync(path.join(root, 'versions')), false, 'no merge ran');
    for (const i of [0, 1, 3])
      assert.ok(existsSync(path.join(work, `shard-${i}`, 'shard.json')), `shard ${i}`);
  });
});
