/**
 * `verify --level 1` (manifest and checksums) loads only what it uses: no DuckDB, no FAISS addon,
 * no parquet-wasm; only xxhash-wasm. Those loads were most of a level-1 run's fixed cost (issue 16
 * item 7; bench/verify-startup.ts measures it against xxhsum). Seen through a preload that logs
 * every process.dlopen and WebAssembly compile (test/helpers/load-log.ts), in the real CLI.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import { packageRoot } from '../src/core/util/paths.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions } from './helpers/versions.js';

const dir = tmpDir('indexctl-verify-startup-');
const root = path.join(dir, 'root');
const preload = path.join(packageRoot, 'dist/test/helpers/load-log.js');

/** The lines the preload logged for one `verify` run at `level`. */
function loadsOf(level: string): { code: number | null; lines: string[]; stderr: string } {
  const log = path.join(dir, `loads-${level}.log`);
  writeFileSync(log, '');
  const res = runCli(['--root', root, 'verify', 'v1', '--level', level, '--json'], {
    nodeArgs: ['--import', preload],
    env: { LOAD_LOG: log },
  });
  return { code: res.code, lines: readFileSync(log, 'utf8').split('\n').filter(Boolean), stderr: res.stderr };
}

describe('verify loads per level what the level needs', () => {
  before(async () => {
    await buildVersions(root, [{ name: 'v1' }]);
  });

  it('level 1 dlopens no native addon (no duckdb.node, no FAISS) and compiles only xxhash-wasm', () => {
    const { code, lines, stderr } = loadsOf('1');
    assert.equal(code, 0, stderr);
    assert.deepEqual(
      lines.filter((l) => / dlopen /.test(l)),
      [],
      'level 1 checksums files: it must not load DuckDB or FAISS',
    );
    // xxhash-wasm is one small module; parquet-wasm is megabytes.
    const wasm = lines.filter((l) => / WebAssembly\./.test(l));
    for (const l of wasm) {
      const bytes = Number(/ (\d+) bytes/.exec(l)?.[1] ?? NaN);
      assert.ok(bytes < 100_000, `a WebAssembly module past xxhash-wasm's size was compiled: ${l}`);
    }
  });

  it('level 2 does load DuckDB (the preload sees what it claims to)', () => {
    const { code, lines, stderr } = loadsOf('2');
    assert.equal(code, 0, stderr);
    assert.ok(
      lines.some((l) => / dlopen .*duckdb[^/]*\.node$/.test(l)),
      `duckdb.node among:\n${lines.join('\n')}`,
    );
  });
});
