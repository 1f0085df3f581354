/**
 * No reader can be crashed by a version that fails verify (issue 20 items 1-2). verify rejects a
 * resealed faiss.index whose HNSW link or IVF list sizes point outside the file's arrays, and publish
 * will not make it CURRENT; but every path that reads a faiss.index into its own process (search,
 * openIndex, tune, follow swaps and serve, build --base, merge, write-manifest, export-idmap) could
 * still be handed one. Each must refuse it as corruption (exit 4, IndexCorruptionError) naming the
 * check that found it, and never die by a signal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { xxh64File } from '../src/core/checksum.js';
import { readAllChunks } from '../src/core/parquet/chunks-reader.js';
import { packageRoot } from '../src/core/util/paths.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { damageIndex } from './helpers/faiss-damage.js';
import { patchIvfLists } from './helpers/ivf-patch.js';
import { cloneVersion, reseal, versionPath } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';

const ROWS = 3000;
const DIM = 16;
/** The node the issue patched: searching with its own vector walks its links. */
const NODE = 600;
const idOf = (row: number) => row * 1000 + 7;

const dir = tmpDir('indexctl-readers-');
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: ROWS, dim: DIM });
const root = path.join(dir, 'root');
const { vectors } = await readAllChunks(chunks);
const query = path.join(dir, 'q.f32');
writeFileSync(query, Buffer.from(vectors.slice(NODE * DIM, (NODE + 1) * DIM).buffer));

function ok(res: CliResult, what: string): void {
  assert.equal(res.code, 0, `${what}: ${res.stderr}`);
}
ok(
  runCli(['--root', root, 'build', '--chunks', chunks, '--factory', 'HNSW16', '--version', 'hnsw']),
  'build hnsw',
);
ok(
  runCli(['--root', root, 'build', '--chunks', chunks, '--factory', 'IVF16,Flat', '--version', 'ivf']),
  'build ivf',
);
ok(runCli(['--root', root, 'publish', 'ivf', '--expect-current', 'none']), 'publish ivf');

/** Each damaged version, with what a reader must name: the check and the finding. */
const DAMAGED: Record<string, { from: string; finding: RegExp }> = {
  ad: {
    from: 'hnsw',
    finding: /index\.structure: .*HNSW node 600 level 0 link 0 = 50000000 outside \[-1, 3000\)/,
  },
  'ivf-beyond': { from: 'ivf', finding: /index\.header: .*(claims|sum)/ },
  'ivf-shifted': {
    from: 'ivf',
    finding: /index\.structure: .*IVF list \d+ entry \d+ holds id -?\d+ outside/,
  },
};
for (const [version, { from }] of Object.entries(DAMAGED)) {
  const vdir = await cloneVersion(root, from, version);
  const file = path.join(vdir, 'faiss.index');
  if (version === 'ad') damageIndex(file, 'hnsw_link', NODE, 0, 50_000_000);
  else
    patchIvfLists(
      file,
      version === 'ivf-beyond' ? 'beyond-file' : 'shifted',
      version === 'ivf-beyond' ? 1_000_000 : 5,
    );
  await reseal(vdir);
}

/** A run that must end by exit 4 naming `finding`, not by a signal (spawnSync: status null). */
function refused(res: CliResult, finding: RegExp, what: string): void {
  assert.notEqual(res.code, null, `${what} was killed by a signal: ${res.stderr}`);
  assert.equal(res.code, 4, `${what} exited ${res.code}: ${res.stderr}`);
  assert.match(res.stderr, finding, what);
}

function child(op: 'open' | 'follow', version: string): Record<string, unknown> {
  const script = path.join(packageRoot, 'dist/test/helpers/reader-child.js');
  const res = spawnSync(process.execPath, [script, op, root, version, query], { encoding: 'utf8' });
  assert.equal(res.signal, null, `${op} ${version} was killed by ${res.signal}: ${res.stderr}`);
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

/** CURRENT pointed at `version` by hand, as `ln -sfn` would, past publish's gate. */
function flipByHand(version: string): void {
  const tmp = path.join(root, 'CURRENT.by-hand');
  symlinkSync(path.join('versions', version), tmp);
  renameSync(tmp, path.join(root, 'CURRENT'));
}

const cli = (...args: string[]) => runCli(['--root', root, ...args], { timeoutMs: 120_000 });

describe('verify rejects each damaged version (the premise)', () => {
  for (const version of Object.keys(DAMAGED)) {
    it(version, () => {
      const res = cli('verify', version, '--level', '3', '--json');
      assert.equal(res.code, 4, res.stderr);
      assert.equal(cli('publish', version).code, 4);
    });
  }
});

for (const [version, { finding }] of Object.entries(DAMAGED)) {
  describe(`${version}: every in-process reader refuses it (4), none dies by a signal`, () => {
    it('search --id and --vector-file', () => {
      refused(cli('search', version, '--id', String(idOf(NODE)), '--k', '5'), finding, 'search --id');
      refused(cli('search', version, '--vector-file', query, '--k', '5'), finding, 'search --vector-file');
    });

    it('openIndex({ root, version }) then search: IndexCorruptionError', () => {
      const out = child('open', version);
      const error = out.error as { name: string; message: string } | undefined;
      assert.equal(error?.name, 'IndexCorruptionError', JSON.stringify(out));
      assert.match(error.message, finding);
    });

    it('tune', () => {
      refused(cli('tune', version, '--target-recall', '0.9'), finding, 'tune');
    });

    it('a following handle keeps serving the old version when CURRENT is flipped to it by hand', () => {
      try {
        const out = child('follow', version);
        assert.equal(out.from, 'ivf');
        assert.equal(out.serving, 'ivf', JSON.stringify(out));
        assert.equal(out.errors, 1);
        const lastError = out.lastError as { name: string; message: string };
        assert.equal(lastError.name, 'IndexCorruptionError');
        assert.match(lastError.message, finding);
        assert.equal(out.hits, 5);
      } finally {
        flipByHand('ivf');
      }
    });

    it('serve, with CURRENT flipped to it by hand, refuses to start', () => {
      flipByHand(version);
      try {
        refused(cli('serve'), finding, 'serve');
      } finally {
        flipByHand('ivf');
      }
    });

    it('build --base', () => {
      refused(
        cli('build', '--chunks', chunks, '--base', version, '--version', `${version}-next`),
        finding,
        'build --base',
      );
    });

    it('write-manifest of a directory holding its faiss.index', () => {
      const adopt = versionPath(root, `${version}-adopt`);
      mkdirSync(adopt, { recursive: true });
      for (const f of ['faiss.index', 'chunks.parquet'])
        copyFileSync(path.join(versionPath(root, version), f), path.join(adopt, f));
      const factory = version === 'ad' ? 'HNSW16' : 'IVF16,Flat';
      refused(cli('write-manifest', `${version}-adopt`, '--factory', factory), finding, 'write-manifest');
    });

    it('export-idmap', () => {
      refused(
        cli('export-idmap', version, '--out', path.join(dir, `${version}.idmap.parquet`)),
        finding,
        'export-idmap',
      );
    });
  });
}

describe('a type the header walk does not know (IndexLSH) is read in the probe child first', () => {
  it('a sound one searches; one whose read kills the reader is exit 4 (index.load), the tool survives', () => {
    ok(cli('build', '--chunks', chunks, '--factory', 'LSH', '--version', 'lsh'), 'build LSH');
    const search = ['search', 'lsh', '--id', String(idOf(NODE)), '--k', '3'];
    ok(cli(...search), 'search LSH');
    // The read that kills the process (what a crafted file of an unknown type could do to read_index).
    const env = { INDEXCTL_FAILPOINT: 'probe:read' };
    const res = runCli(['--root', root, ...search], { env, timeoutMs: 120_000 });
    refused(res, /lsh\/faiss\.index: index\.load: crashed the FAISS reader \(signal SIGKILL/, 'search LSH');
    // A type it knows is not sent to the probe: the same failpoint changes nothing.
    ok(
      runCli(['--root', root, 'search', 'ivf', '--id', String(idOf(NODE)), '--k', '3'], { env }),
      'search ivf',
    );
  });
});

describe('merge: a shard whose faiss.index is damaged and whose shard.json was resealed', () => {
  it('is refused (4) naming the shard and the check', async () => {
    const base = path.join(dir, 'shards');
    const trained = path.join(base, 'trained.faiss');
    ok(
      runCli([
        'train',
        '--chunks',
        chunks,
        '--factory',
        'IVF16,Flat',
        '--out',
        trained,
        '--train-sample',
        '1000',
      ]),
      'train',
    );
    const shards = [0, 1].map((i) => path.join(base, `shard-${i}`));
    shards.forEach((s, i) =>
      ok(
        runCli(['build', '--chunks', chunks, '--trained', trained, '--shard', `${i}/2`, '--out', s]),
        `shard ${i}`,
      ),
    );
    // The fixture's rows are one row group, all in shard 0 (shard 1 is empty).
    const file = path.join(shards[0]!, 'faiss.index');
    patchIvfLists(file, 'shifted', 5);
    const json = path.join(shards[0]!, 'shard.json');
    const manifest = JSON.parse(readFileSync(json, 'utf8')) as {
      files: Record<string, { checksum: string }>;
    };
    manifest.files['faiss.index']!.checksum = await xxh64File(file);
    writeFileSync(json, JSON.stringify(manifest, null, 2));
    const res = runCli(['--root', path.join(base, 'root'), 'merge', ...shards, '--version', 'merged']);
    refused(res, /index\.structure: .*IVF list \d+ entry \d+ holds id/, 'merge');
    assert.match(res.stderr, /shard-0/);
  });
});
