import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { faissBuildFacts } from '../src/core/build-info.js';
import { bin, runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

// A preload that makes any native addon load (FAISS, DuckDB) fail loudly.
const noNative = path.join(tmpDir(), 'no-native.mjs');
writeFileSync(noNative, 'process.dlopen = () => { throw new Error("a native addon was loaded"); };\n');

describe('indexctl CLI', () => {
  it('--help lists the commands, exit codes and examples without loading native code', () => {
    const res = runCli(['--help'], { nodeArgs: ['--import', noNative] });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /Usage: indexctl/);
    assert.match(res.stdout, /doctor/);
    assert.match(res.stdout, /Exit codes: 0 ok/);
    const sub = runCli(['doctor', '--help'], { nodeArgs: ['--import', noNative] });
    assert.match(sub.stdout, /Examples:\n {2}\$ indexctl doctor/);
  });

  it('--version reports indexctl, the FAISS version and its SIMD level without loading native code', () => {
    const res = runCli(['--version'], { nodeArgs: ['--import', noNative] });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout, /^indexctl \d+\.\d+\.\d+, FAISS 1\.7\.3 (avx2|avx512|generic) /);
  });

  it('ends quietly when the reader of its output goes away (`| head`), without an EPIPE trace', () => {
    // `true` exits without reading, so every write to the pipe fails with EPIPE.
    const res = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" build --help | true`],
      {
        encoding: 'utf8',
      },
    );
    assert.doesNotMatch(res.stderr, /EPIPE|Unhandled/);
    assert.equal(res.status, 0, res.stderr);
  });

  it('exits 2 on an unknown command, an unknown flag, or a bad --threads', () => {
    assert.equal(runCli(['frobnicate']).code, 2);
    const flag = runCli(['doctor', '--no-such-flag']);
    assert.equal(flag.code, 2);
    assert.match(flag.stderr, /unknown option '--no-such-flag'/);
    const threads = runCli(['--threads', '0', 'doctor']);
    assert.equal(threads.code, 2);
    assert.match(threads.stderr, /option '--threads <n>' argument '0' is invalid\. must be an integer >= 1/);
  });

  it('--json still prints one document when the command fails: the exit code and the message', () => {
    const root = tmpDir();
    const missing = runCli(['--root', root, 'verify', 'nope', '--json']);
    assert.equal(missing.code, 6);
    const doc = JSON.parse(missing.stdout) as {
      schema: string;
      exitCode: number;
      error: string;
      message: string;
    };
    assert.deepEqual(
      { schema: doc.schema, exitCode: doc.exitCode, error: doc.error },
      { schema: 'indexctl.error/1', exitCode: 6, error: 'NotFoundError' },
    );
    assert.match(doc.message, /nope/);
    assert.match(missing.stderr, /nope/, 'the message is on stderr too');
    const usage = runCli(['verify', '--no-such-flag', '--json']);
    assert.equal(usage.code, 2);
    assert.equal((JSON.parse(usage.stdout) as { exitCode: number }).exitCode, 2);
    assert.equal(runCli(['--root', root, 'verify', 'nope']).stdout, '', 'without --json, nothing on stdout');
  });

  it('doctor --json prints one versioned document on stdout', () => {
    const res = runCli(['--threads', '1', 'doctor', '--json']);
    assert.equal(res.code, 0, res.stderr);
    const doc = JSON.parse(res.stdout) as {
      schema: string;
      threads: number;
      faiss: { faissVersion: string };
      check: { selfHits: number; queries: number };
    };
    assert.equal(doc.schema, 'indexctl.doctor/1');
    assert.equal(doc.faiss.faissVersion, faissBuildFacts()?.version, 'the FAISS the addon was built against');
    assert.equal(doc.threads, 1);
    assert.equal(doc.check.selfHits, doc.check.queries);
  });

  it('explains a failed addon load with what was tried and how to fix it (exit 1)', () => {
    const broken = path.join(tmpDir(), 'broken.node');
    writeFileSync(broken, 'not an ELF file');
    for (const addon of [broken, '/nonexistent/indexctl_faiss.node']) {
      const res = runCli(['doctor'], { env: { INDEXCTL_ADDON: addon } });
      assert.equal(res.code, 1);
      assert.match(res.stderr, /could not load the indexctl FAISS addon/);
      assert.ok(res.stderr.includes(addon), res.stderr);
      assert.match(res.stderr, /Possible fixes:[\s\S]*npm run build:native[\s\S]*docs\/building\.md/);
    }
  });
});
