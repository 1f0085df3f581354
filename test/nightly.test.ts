/** scripts/nightly-rebuild.sh end to end: two nights in a row, and a night with a bad chunks file. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { readCurrent } from '../src/core/layout.js';
import { packageRoot } from '../src/core/util/paths.js';
import { writeChunks } from './helpers/chunks.js';
import { parsePrometheusFile, sampleValue } from './helpers/prometheus.js';
import { bin } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';
import { logLines } from './helpers/versions.js';

const script = path.join(packageRoot, 'scripts/nightly-rebuild.sh');

function nightly(
  chunks: string,
  root: string,
  env: Record<string, string> = {},
): { code: number | null; stderr: string } {
  const res = spawnSync('bash', [script, chunks, root], {
    encoding: 'utf8',
    env: {
      ...process.env,
      NO_COLOR: '1',
      INDEXCTL: `${process.execPath} ${bin}`,
      FACTORY: 'Flat',
      WAIT: '30',
      ...env,
    },
  });
  return { code: res.status, stderr: res.stderr };
}

describe('scripts/nightly-rebuild.sh', () => {
  it('publishes the first night with --expect-current none, then over it with the CAS', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'index');
    const monday = path.join(dir, 'monday.parquet');
    const tuesday = path.join(dir, 'tuesday.parquet');
    await writeChunks(monday, { rows: 200, dim: 8 });
    await writeChunks(tuesday, { rows: 240, dim: 8 });

    const first = nightly(monday, root);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stderr, /CURRENT now: none/);
    const v1 = readCurrent(root)!;
    assert.match(v1, /^\d{8}T\d{6}Z-[0-9a-f]{8}$/);

    const metrics = path.join(dir, 'textfile collector');
    mkdirSync(metrics);
    const second = nightly(tuesday, root, { GC_KEEP: '1', METRICS_DIR: metrics });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, new RegExp(`CURRENT now: ${v1}`));
    assert.match(second.stderr, /--expect-current/);
    const v2 = readCurrent(root)!;
    assert.notEqual(v2, v1);
    const log = logLines(root);
    assert.deepEqual(
      log.map((l) => [l.from, l.to]),
      [
        [null, v1],
        [v1, v2],
      ],
    );
    assert.match(String(log[1]!.reason), /nightly rebuild from tuesday\.parquet/);
    // gc --keep 1 kept v2 (CURRENT) and v1 (the rollback target).
    assert.deepEqual(readdirSync(path.join(root, 'versions')).sort(), [v1, v2].sort());
    // METRICS_DIR: one .prom file per step, nothing else (no temp file left for the collector).
    assert.deepEqual(readdirSync(metrics).sort(), [
      'indexctl-build.prom',
      'indexctl-gc.prom',
      'indexctl-publish.prom',
      'indexctl-verify.prom',
    ]);
    const published = parsePrometheusFile(path.join(metrics, 'indexctl-publish.prom'));
    assert.equal(
      sampleValue(published, 'indexctl_published_version_info', {
        command: 'publish',
        version: v2,
        from: v1,
      }),
      1,
    );

    const bad = path.join(dir, 'bad.parquet');
    writeFileSync(bad, 'not parquet');
    const third = nightly(bad, root, { METRICS_DIR: metrics });
    assert.equal(third.code, 5, third.stderr);
    const failed = parsePrometheusFile(path.join(metrics, 'indexctl-build.prom'));
    assert.equal(sampleValue(failed, 'indexctl_command_exit_code', { command: 'build' }), 5);
    assert.match(third.stderr, /bad input: .*bad\.parquet is unusable/);
    assert.equal(readCurrent(root), v2);
    assert.equal(logLines(root).length, 2);

    assert.equal(nightly(monday, root, { VERSION: '../x' }).code, 2);
    assert.equal(readCurrent(root), v2);
  });

  it('the crontab line of docs/operations.md, run as written, mails the error lines on failure', async () => {
    const dir = tmpDir();
    const root = path.join(dir, 'index');
    const good = path.join(dir, 'good.parquet');
    await writeChunks(good, { rows: 200, dim: 8 });
    const doc = readFileSync(path.join(packageRoot, 'docs/operations.md'), 'utf8');
    const cronLine = /```cron\n(.*)\n```/.exec(doc)?.[1];
    assert.ok(cronLine, 'docs/operations.md has a crontab line');
    // The five schedule fields, then the command cron gives to /bin/sh.
    const command = cronLine.replace(/^(\S+\s+){5}/, '');
    // Stubs: `indexctl` is this checkout, `mail` records what it was given.
    const stubs = path.join(dir, 'bin');
    mkdirSync(stubs);
    const indexctl = path.join(stubs, 'indexctl');
    writeFileSync(indexctl, `#!/bin/sh\nexec '${process.execPath}' '${bin}' "$@"\n`);
    const mail = path.join(stubs, 'mail');
    writeFileSync(mail, `#!/bin/sh\nprintf '%s\\n' "$@" > '${dir}/mail.args'\ncat > '${dir}/mail.body'\n`);
    chmodSync(indexctl, 0o755);
    chmodSync(mail, 0o755);
    const logFile = path.join(dir, 'nightly.log');
    const cron = (chunks: string) =>
      spawnSync(
        'sh',
        [
          '-c',
          command
            .replace('/usr/local/bin/indexctl', indexctl)
            .replace('/opt/indexctl/scripts/nightly-rebuild.sh', script)
            .replace('/data/chunks/latest.parquet', chunks)
            .replace('/srv/index', root)
            .replace('/var/log/indexctl-nightly.log', logFile),
        ],
        { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', PATH: `${stubs}:${process.env.PATH}` } },
      );

    const night = cron(good);
    assert.equal(night.status, 0, night.stderr);
    assert.equal(existsSync(path.join(dir, 'mail.body')), false, 'no mail on success');
    assert.match(readFileSync(logFile, 'utf8'), /nightly-rebuild: published/);
    const v1 = readCurrent(root);
    assert.ok(v1);

    const bad = path.join(dir, 'bad.parquet');
    writeFileSync(bad, 'not parquet');
    cron(bad);
    assert.deepEqual(readFileSync(path.join(dir, 'mail.args'), 'utf8').split('\n').filter(Boolean), [
      '-s',
      'indexctl nightly failed',
      'oncall@example.com',
    ]);
    const body = readFileSync(path.join(dir, 'mail.body'), 'utf8');
    assert.match(body, /indexctl nightly failed with exit 5/);
    // indexctl's own error line (which file, what is wrong) and the script's explanation.
    assert.match(body, /^indexctl: .*bad\.parquet/m);
    assert.match(body, /build: bad input: .*bad\.parquet is unusable/);
    assert.match(readFileSync(logFile, 'utf8'), /^indexctl: .*bad\.parquet/m);
    assert.equal(readCurrent(root), v1);
  });
});
