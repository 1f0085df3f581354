/**
 * DuckDB resource limits: every kind of connection indexctl opens carries memory_limit and threads
 * (the caller's, else the conservative defaults), the CLI reads them from flags or the environment,
 * a build under --memory-budget gives DuckDB only what the FAISS plan leaves, and running out of the
 * limit is an error naming it.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';

import type { DuckDBConnection } from '@duckdb/node-api';

import { parseArgv, type ParsedCommand } from '../src/cli.js';
import { build } from '../src/core/build/build.js';
import { formatBytes } from '../src/core/util/units.js';
import { connectCatalog, disconnect } from '../src/core/catalog/connect.js';
import { openCatalog } from '../src/core/catalog/open.js';
import {
  DEFAULT_DUCKDB_MEMORY,
  DEFAULT_DUCKDB_THREADS,
  DuckDBMemoryError,
  limitsWithinBudget,
  MIN_DUCKDB_MEMORY,
} from '../src/core/catalog/duckdb-limits.js';
import { UsageError } from '../src/core/errors.js';
import { describeParquet, openDuckDB, reading } from '../src/core/parquet/duckdb-source.js';
import { openIndex } from '../src/core/search/open-index.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { tmpDir } from './helpers/tmp.js';

const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
const root = path.join(dir, 'root');
const MiB = 1024 ** 2;

/** DuckDB shows memory_limit in binary units with one decimal ("96.0 MiB", "1.0 GiB"), as formatBytes does. */
const shown = (bytes: number) => formatBytes(bytes);

async function settings(c: DuckDBConnection): Promise<{ memory: string; threads: number }> {
  const reader = await c.runAndReadAll(
    "SELECT current_setting('memory_limit'), current_setting('threads')::INTEGER",
  );
  const [memory, threads] = reader.getRowsJS()[0]!;
  return { memory: String(memory), threads: Number(threads) };
}

before(async () => {
  await writeChunks(chunks, { rows: 3000, dim: 16 });
  await build({ root, chunks, factory: 'Flat', version: 'v1', duckdb: { memoryLimit: '96MiB', threads: 1 } });
});

describe('DuckDB limits on every connection', () => {
  const limits = { memoryLimit: 96 * MiB, threads: 1 };
  const expected = { memory: shown(96 * MiB), threads: 1 };

  it('ingestion (the Parquet reader and its footer read)', async () => {
    const instance = await openDuckDB(limits);
    const c = await instance.connect();
    assert.deepEqual(await settings(c), expected);
    c.closeSync();
    instance.closeSync();
    const source = await describeParquet(chunks, { memoryLimit: '128MB', threads: 2 });
    const s = await source.instance.connect();
    assert.deepEqual(await settings(s), { memory: shown(128 * MiB), threads: 2 });
    s.closeSync();
    source.instance.closeSync();
  });

  it('catalog build (read-write) and verify/storage (read-only) connections', async () => {
    const v = path.join(root, 'versions', 'v1');
    const rw = await connectCatalog(path.join(dir, 'scratch.duckdb'), v, 'read-write', {}, limits);
    assert.deepEqual(await settings(rw.connection), expected);
    disconnect(rw);
    const ro = await connectCatalog(path.join(v, 'catalog.duckdb'), v, 'read-only', {}, limits);
    assert.deepEqual(await settings(ro.connection), expected);
    disconnect(ro);
  });

  it('openCatalog and the library handle (openIndex), with the defaults when none are given', async () => {
    const catalog = await openCatalog(path.join(root, 'versions', 'v1'), { duckdb: limits });
    const rows = await catalog.query(
      "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t",
    );
    assert.deepEqual(rows, [{ m: expected.memory, t: 1n }]);
    catalog.close();
    const handle = await openIndex(
      { root, version: 'v1' },
      { duckdb: { memoryLimit: '200MiB', threads: 2 } },
    );
    assert.deepEqual(
      await handle.catalog.query(
        "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t",
      ),
      [{ m: shown(200 * MiB), t: 2n }],
    );
    await handle.close();
    const plain = await openIndex({ root, version: 'v1' });
    assert.deepEqual(
      await plain.catalog.query(
        "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t",
      ),
      [{ m: shown(DEFAULT_DUCKDB_MEMORY), t: BigInt(DEFAULT_DUCKDB_THREADS) }],
    );
    await plain.close();
  });

  it('refuses a limit that cannot be a limit (usage, exit 2)', async () => {
    await assert.rejects(openDuckDB({ memoryLimit: 'lots' }), UsageError);
    await assert.rejects(openDuckDB({ memoryLimit: 1024 }), /at least 64\.0 MiB/);
    await assert.rejects(openDuckDB({ threads: 0 }), /threads must be an integer/);
  });
});

describe('DuckDB limits: the CLI edge and the build budget', () => {
  it('--duckdb-memory / --duckdb-threads, else INDEXCTL_DUCKDB_MEMORY / INDEXCTL_DUCKDB_THREADS', async () => {
    const flags = (await parseArgv([
      '--duckdb-memory',
      '512MB',
      'verify',
      'v1',
      '--duckdb-threads',
      '2',
    ])) as ParsedCommand;
    assert.deepEqual(flags.globals.duckdb, { memoryLimit: 512 * MiB, threads: 2 });
    process.env.INDEXCTL_DUCKDB_MEMORY = '256M';
    process.env.INDEXCTL_DUCKDB_THREADS = '3';
    try {
      const env = (await parseArgv(['verify', 'v1'])) as ParsedCommand;
      assert.deepEqual(env.globals.duckdb, { memoryLimit: 256 * MiB, threads: 3 });
      const both = (await parseArgv(['verify', 'v1', '--duckdb-threads', '1'])) as ParsedCommand;
      assert.deepEqual(both.globals.duckdb, { memoryLimit: 256 * MiB, threads: 1 });
    } finally {
      delete process.env.INDEXCTL_DUCKDB_MEMORY;
      delete process.env.INDEXCTL_DUCKDB_THREADS;
    }
    const none = (await parseArgv(['verify', 'v1'])) as ParsedCommand;
    assert.deepEqual(none.globals.duckdb, {});
    const bad = runCli(['--root', root, 'verify', 'v1', '--level', '1'], {
      env: { INDEXCTL_DUCKDB_THREADS: 'many' },
    });
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /INDEXCTL_DUCKDB_THREADS="many"/);
    const ok = runCli([
      '--root',
      root,
      '--duckdb-memory',
      '100MB',
      '--duckdb-threads',
      '1',
      'verify',
      'v1',
      '--json',
    ]);
    assert.equal(ok.code, 0, ok.stderr);
  });

  it('under --memory-budget DuckDB gets what the FAISS plan leaves; an explicit limit that does not fit is exit 2', () => {
    assert.deepEqual(limitsWithinBudget(undefined, undefined, 10), {});
    assert.deepEqual(limitsWithinBudget({ threads: 2 }, 1000 * MiB, 800 * MiB), {
      threads: 2,
      memoryLimit: 200 * MiB,
    });
    assert.equal(
      limitsWithinBudget(undefined, 100 * 1024 * MiB, 1024 * MiB).memoryLimit,
      DEFAULT_DUCKDB_MEMORY,
    );
    assert.equal(limitsWithinBudget(undefined, 1000 * MiB, 990 * MiB).memoryLimit, MIN_DUCKDB_MEMORY);
    assert.throws(
      () => limitsWithinBudget({ memoryLimit: '512MiB' }, 1000 * MiB, 800 * MiB),
      (e: Error) =>
        e instanceof UsageError &&
        /--duckdb-memory 512\.0 MiB .* exceed --memory-budget 1000\.0 MiB/.test(e.message),
    );
    const res = runCli([
      '--root',
      path.join(dir, 'budget'),
      '--duckdb-memory',
      '2G',
      'build',
      '--chunks',
      chunks,
      '--factory',
      'Flat',
      '--memory-budget',
      '1G',
      '--dry-run',
    ]);
    assert.equal(res.code, 2, res.stderr);
    assert.match(
      res.stderr,
      /--duckdb-memory 2\.0 GiB and the FAISS plan's .* peak exceed --memory-budget 1\.0 GiB/,
    );
  });

  it('a build under the smallest limit completes and leaves no DuckDB spill directory in the version', async () => {
    const small = path.join(dir, 'small');
    await build({
      root: small,
      chunks,
      factory: 'Flat',
      version: 'v',
      materialize: true,
      duckdb: { memoryLimit: MIN_DUCKDB_MEMORY, threads: 1 },
    });
    assert.deepEqual(readdirSync(path.join(small, 'versions', 'v')).sort(), [
      'catalog.duckdb',
      'chunks.parquet',
      'faiss.index',
      'idmap.parquet',
      'manifest.json',
    ]);
    assert.deepEqual(readdirSync(path.join(small, 'staging')), []);
  });

  it('running out of the limit is an error naming the limit (exit 5), not an internal error', async () => {
    const instance = await openDuckDB({ memoryLimit: MIN_DUCKDB_MEMORY, threads: 1 });
    const c = await instance.connect();
    try {
      await assert.rejects(
        reading(
          chunks,
          'aggregating',
          () => c.runAndReadAll('SELECT length(list(i)) FROM range(20000000) t(i)'),
          {
            memoryLimit: MIN_DUCKDB_MEMORY,
          },
        ),
        (e: Error) =>
          e instanceof DuckDBMemoryError &&
          e.exitCode === 5 &&
          /under its memory limit of 64\.0 MiB: raise --duckdb-memory/.test(e.message) &&
          /Out of Memory Error/.test(e.message),
      );
    } finally {
      c.closeSync();
      instance.closeSync();
    }
  });
});
