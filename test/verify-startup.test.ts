/**
 * `verify --level 1` (manifest and checksums) loads only what it uses: no DuckDB, no FAISS addon,
 * no parquet-wasm; the checksum addon (indexctl_hash.node) hashes every file on libuv's thread pool,
 * so no WebAssembly is compiled either. Those loads were most of a level-1 run's fixed cost (issue 16
 * item 7, issue 21; bench/verify-startup.ts measures it against xxhsum). Without the addon, files
 * of 64 MiB and more go to worker threads (test/verify-hashing.test.ts compares the three ways).
 * Seen through a preload that logs every process.dlopen and WebAssembly compile, with its thread
 * (test/helpers/load-log.ts), in the real CLI.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { before, describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';
// @ts-expect-error: a plain ESM script without types
import { BUNDLE_MARK } from '../../scripts/build-ts.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { cloneVersion, flipByte, reseal } from './helpers/tamper.js';
import { buildVersions } from './helpers/versions.js';

const dir = tmpDir('indexctl-verify-startup-');
const root = path.join(dir, 'root');
const preload = path.join(packageRoot, 'dist/test/helpers/load-log.js');

/** The lines the preload logged for one `verify` run at `level`. */
function loadsOf(
  level: string,
  version = 'v1',
): { code: number | null; lines: string[]; stderr: string; stdout: string } {
  const log = path.join(dir, `loads-${version}-${level}.log`);
  writeFileSync(log, '');
  const res = runCli(['--root', root, 'verify', version, '--level', level, '--json'], {
    nodeArgs: ['--import', preload],
    env: { LOAD_LOG: log },
  });
  return {
    code: res.code,
    lines: readFileSync(log, 'utf8').split('\n').filter(Boolean),
    stderr: res.stderr,
    stdout: res.stdout,
  };
}

describe('verify loads per level what the level needs', () => {
  before(async () => {
    await buildVersions(root, [{ name: 'v1' }]);
    // v1 with 64 MiB more in chunks.parquet (resealed; level 1 does not parse it): large enough
    // for a checksum worker. faiss.index and the rest stay small.
    const big = await cloneVersion(root, 'v1', 'big');
    appendFileSync(path.join(big, 'chunks.parquet'), Buffer.alloc(64 << 20, 0x5a));
    await reseal(big);
  });

  it('level 1 dlopens only the checksum addon (no duckdb.node, no FAISS) and compiles no WebAssembly', () => {
    for (const version of ['v1', 'big']) {
      const { code, lines, stderr } = loadsOf('1', version);
      assert.equal(code, 0, stderr);
      assert.deepEqual(
        lines.filter((l) => / dlopen /.test(l)).map((l) => path.basename(l.split(' ').pop()!)),
        ['indexctl_hash.node'],
        'level 1 checksums files: it must not load DuckDB or FAISS',
      );
      assert.deepEqual(
        lines.filter((l) => / WebAssembly\./.test(l)),
        [],
        'the checksum addon hashes every file: xxhash-wasm is not compiled',
      );
    }
  });

  it('level 1 imports zod/mini as the one bundled module, nothing of the zod package', () => {
    const { code, lines, stderr } = loadsOf('1');
    assert.equal(code, 0, stderr);
    const modules = lines.filter((l) => / module /.test(l)).map((l) => l.split(' module ')[1]!);
    assert.ok(modules.length > 10, `the hooks saw the CLI's modules:\n${modules.join('\n')}`);
    assert.deepEqual(
      modules.filter((u) => u.includes('/node_modules/zod/')),
      [],
      'the manifest schema imports src/vendor/zod-mini, bundled by scripts/build-ts.js (npm run build:ts)',
    );
    const vendored = path.join(packageRoot, 'dist/src/vendor/zod-mini.js');
    assert.ok(modules.includes(pathToFileURL(vendored).href), modules.join('\n'));
    assert.ok(
      readFileSync(vendored, 'utf8').startsWith(BUNDLE_MARK),
      `${vendored} is tsc's re-export, not the bundle: run npm run build:ts`,
    );
  });

  it('level 2 does load DuckDB (the preload sees what it claims to)', () => {
    const { code, lines, stderr } = loadsOf('2');
    assert.equal(code, 0, stderr);
    assert.ok(
      lines.some((l) => / dlopen .*duckdb[^/]*\.node$/.test(l)),
      `duckdb.node among:\n${lines.join('\n')}`,
    );
  });

  it('level 1 reports each file it hashed with its digest and size', () => {
    const big = loadsOf('1', 'big');
    assert.equal(big.code, 0, big.stderr);
    const report = JSON.parse(big.stdout) as { checks: { name: string; target?: string; detail: string }[] };
    const sums = report.checks.filter((c) => c.name === 'files.checksum');
    assert.deepEqual(sums.map((c) => c.target).sort(), [
      'catalog.duckdb',
      'chunks.parquet',
      'faiss.index',
      'idmap.parquet',
    ]);
    for (const c of sums) assert.match(c.detail, /^xxh64:[0-9a-f]{16} \(\d+ bytes\)$/);
  });

  it('a flipped byte past the first 64 MiB is a checksum mismatch (exit 4) naming the file', () => {
    const file = path.join(root, 'versions', 'big', 'chunks.parquet');
    flipByte(file);
    const res = runCli(['--root', root, 'verify', 'big', '--level', '1', '--json']);
    flipByte(file);
    assert.equal(res.code, 4, res.stderr);
    const report = JSON.parse(res.stdout) as {
      checks: { name: string; target?: string; outcome: string; detail: string }[];
    };
    const failed = report.checks.filter((c) => c.outcome === 'fail');
    assert.deepEqual(
      failed.map((c) => `${c.name} ${c.target}`),
      ['files.checksum chunks.parquet'],
    );
    assert.match(
      failed[0]!.detail,
      /chunks\.parquet: checksum mismatch: expected xxh64:[0-9a-f]{16}, actual xxh64:/,
    );
  });
});
