/**
 * Several `indexctl publish` processes at once, with a search-service-like reader looping over
 * CURRENT in another process: the publishes serialize on the writer lock, publish.log has one
 * line per flip forming one chain, and the reader never sees an error or a mixed version.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { readCurrent } from '../src/core/layout.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { bin } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { buildVersions, logLines } from './helpers/versions.js';

const readerScript = path.join(path.dirname(fileURLToPath(import.meta.url)), 'helpers', 'current-reader.js');
const VERSIONS = ['c1', 'c2', 'c3', 'c4', 'c5'];

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runAsync(args: string[]): Promise<Done> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('concurrent publishes', () => {
  it('serialize on the lock, log one line per flip, and a looping reader never sees a mix', async (t) => {
    const root = path.join(tmpDir(), 'root');
    // Version cK has ids i*1000+K and its own size, so a reader can tell versions apart.
    await buildVersions(
      root,
      VERSIONS.map((name, k) => ({ name, rows: 200 + 10 * k, id: `i * 1000 + ${k + 1}` })),
    );
    await publish({ root, version: 'c1' });

    const reader = spawn(process.execPath, [readerScript, root], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: reader.stdout })[Symbol.asyncIterator]();
    const event = async () => JSON.parse((await lines.next()).value as string) as { version: string };
    // The reader has read c1 before any publish starts, and is stopped only once it has read the
    // last version: it spans the flips by construction, not by how the processes were scheduled.
    assert.equal((await event()).version, 'c1');

    const results = await Promise.all(
      VERSIONS.slice(1).map((v) =>
        runAsync(['--root', root, 'publish', v, '--wait', '60', '--reason', `race ${v}`, '--json']),
      ),
    );
    const last = readCurrent(root)!;
    const seenEvents = ['c1'];
    while (seenEvents.at(-1) !== last) seenEvents.push((await event()).version);
    reader.stdin.write('stop\n');
    const summary = JSON.parse((await lines.next()).value as string) as {
      iterations: number;
      errors: string[];
      seen: string[];
    };
    reader.stdin.end();

    for (const r of results) assert.equal(r.code, 0, r.stderr);
    const log = logLines(root);
    assert.equal(log.length, VERSIONS.length, 'one line per successful flip');
    // One chain: each flip starts from the previous flip's target.
    for (let i = 1; i < log.length; i++) assert.equal(log[i]!.from, log[i - 1]!.to);
    assert.deepEqual(log.map((l) => l.to).sort(), VERSIONS);
    assert.equal(readCurrent(root), log.at(-1)!.to);
    // Each publish's report says what it replaced, as the log does.
    const froms = results.map((r) => (JSON.parse(r.stdout) as { from: string; version: string }).from);
    assert.deepEqual(
      froms.sort(),
      log
        .slice(1)
        .map((l) => l.from as string)
        .sort(),
    );

    t.diagnostic(`reader: ${summary.iterations} reads, versions seen: ${summary.seen.join(' ')}`);
    assert.deepEqual(summary.errors, []);
    assert.notEqual(last, 'c1');
    assert.ok(summary.seen.includes('c1') && summary.seen.includes(last), 'the reader ran across the flips');
    assert.deepEqual([...seenEvents].sort(), summary.seen);
    for (const v of summary.seen) assert.ok(VERSIONS.includes(v));
  });
});
