/**
 * A damaged block of catalog.duckdb (issue 12 item 2). DuckDB checksums every block and checks it
 * when the block is read, but reads lazily: a byte flipped in a data or index block, with the
 * manifest resealed over it, used to pass verify --level 3 and publish, and every search then
 * exited 1 ("internal error: IO Error: Corrupt database file"). Now verify's catalog.storage reads
 * every block in use (exit 4), and search and openIndex report the damage as IndexCorruptionError
 * (exit 4), resealed or not.
 *
 * Blocks are found from DuckDB's own account of the file (`database_size`, `pragma_storage_info`,
 * `pragma_metadata_info`): a 12 KiB header (the main header and two database headers), then
 * `total_blocks` blocks of `block_size` bytes, each starting with its checksum. The tests check that
 * layout against the file size and against the offset DuckDB names in its error.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';

import { DuckDBInstance } from '@duckdb/node-api';

import { build } from '../src/core/build/build.js';
import { readCatalogStorage } from '../src/core/catalog/storage.js';
import { IndexCorruptionError } from '../src/core/errors.js';
import { publish } from '../src/core/lifecycle/publish.js';
import { openIndex } from '../src/core/search/open-index.js';
import { verify, type CheckResult, type VerifyReport } from '../src/core/verify/verify.js';
import { writeChunks } from './helpers/chunks.js';
import { runCli } from './helpers/cli.js';
import { cloneVersion, flipByte, reseal } from './helpers/tamper.js';
import { tmpDir } from './helpers/tmp.js';
import { currentTarget } from './helpers/versions.js';

const ROWS = 2000;
const DIM = 8;
const dir = tmpDir();
const chunks = path.join(dir, 'chunks.parquet');
await writeChunks(chunks, { rows: ROWS, dim: DIM });
const root = path.join(dir, 'root');
await build({ root, chunks, factory: 'Flat', version: 'plain' });
await build({ root, chunks, factory: 'Flat', version: 'mat', materialize: true });
// Enough rows for each ART index to span several blocks (2000 keys fit in one).
const wideChunks = path.join(dir, 'wide.parquet');
await writeChunks(wideChunks, { rows: 30_000, dim: 2, id: 'i * 1000 + (hash(i) % 1000)::BIGINT' });
await build({ root, chunks: wideChunks, factory: 'Flat', version: 'wide', materialize: true });

/** Three 4 KiB headers precede the first block. */
const HEADER = 3 * 4096;

interface Blocks {
  size: number;
  total: number;
  /** Blocks holding column segments, by table. */
  data: Map<string, number[]>;
  /** Blocks holding the catalog's metadata (read when the database opens). */
  metadata: number[];
}

async function catalogBlocks(version: string): Promise<Blocks> {
  const file = path.join(root, 'versions', version, 'catalog.duckdb');
  const instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  try {
    const c = await instance.connect();
    const rows = async (sql: string) => (await c.runAndReadAll(sql)).getRowsJS();
    const [[size, total]] = (await rows('SELECT block_size, total_blocks FROM pragma_database_size()')) as [
      [bigint, bigint],
    ];
    const data = new Map<string, number[]>();
    for (const table of [
      'chunk_embedding_hash',
      'chunk_meta',
      ...(version === 'plain' ? [] : ['faiss_idmap_mat']),
    ]) {
      const ids = await rows(
        `SELECT DISTINCT block_id FROM pragma_storage_info('${table}') WHERE block_id >= 0 ORDER BY 1`,
      );
      data.set(
        table,
        ids.map(([id]) => Number(id)),
      );
    }
    const metadata = (await rows('SELECT block_id FROM pragma_metadata_info()')).map(([id]) => Number(id));
    const blocks = { size: Number(size), total: Number(total), data, metadata };
    assert.equal(statSync(file).size, HEADER + blocks.total * blocks.size, 'DuckDB file layout');
    return blocks;
  } finally {
    instance.closeSync();
  }
}

const blockOffset = (b: Blocks, block: number) => HEADER + block * b.size;

let copies = 0;
/**
 * A copy of `from` with one byte flipped in the middle of `block` of its catalog.duckdb, resealed
 * (the manifest's checksums recomputed over the damage) unless `sealed` is false.
 */
async function damaged(
  from: string,
  block: number,
  options: { sealed?: boolean } = {},
): Promise<{ version: string; vdir: string }> {
  const b = await catalogBlocks(from);
  const version = `${from}-${++copies}`;
  const vdir = await cloneVersion(root, from, version);
  flipByte(path.join(vdir, 'catalog.duckdb'), blockOffset(b, block) + b.size / 2);
  if (options.sealed !== false) await reseal(vdir);
  return { version, vdir };
}

function check(report: VerifyReport, name: string, target?: string): CheckResult {
  const found = report.checks.find((c) => c.name === name && (target === undefined || c.target === target));
  assert.ok(found, `no ${name} in ${report.checks.map((c) => c.name).join(', ')}`);
  return found;
}

/** DuckDB's own message, naming the block. */
function corruptAt(vdir: string, at: number): RegExp {
  const file = path.join(vdir, 'catalog.duckdb').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${file}: .*IO Error: Corrupt database file: .* in block at location ${at}$`);
}

/** Every check passes but catalog.storage, which fails (4), and chunks_count, skipped after it. */
function assertOnlyStorageFails(report: VerifyReport, detail: RegExp): void {
  assert.equal(report.exitCode, 4);
  for (const c of report.checks) {
    const expected =
      c.name === 'catalog.storage' ? 'fail' : c.name === 'catalog.chunks_count' ? 'skip' : 'pass';
    assert.equal(c.outcome, expected, `${c.name} ${c.target ?? ''}: ${c.outcome}: ${c.detail}`);
  }
  assert.equal(check(report, 'catalog.storage').exitCode, 4);
  assert.match(check(report, 'catalog.storage').detail, detail);
}

/** The first chunk's embedding (ids are i * 1000 + 7, embeddings as writeChunks makes them). */
const QUERY = new Float32Array(DIM).fill(0.5);

describe('catalog.storage: every block of catalog.duckdb in use is read', () => {
  for (const from of ['plain', 'mat']) {
    it(`${from}: a byte flipped in any one block, resealed, fails verify (4) naming the file and block`, async () => {
      const b = await catalogBlocks(from);
      assert.ok(b.total >= 3, `${from}: ${b.total} blocks`);
      for (let block = 0; block < b.total; block++) {
        const { version, vdir } = await damaged(from, block);
        const report = await verify({ root, version, level: 2 });
        const failed = report.checks.filter((c) => c.outcome === 'fail');
        assert.equal(report.exitCode, 4, `block ${block}: ${JSON.stringify(report.checks)}`);
        // Metadata is read when the database opens; data and index blocks only by catalog.storage.
        const expected = b.metadata.includes(block) ? 'catalog.open' : 'catalog.storage';
        assert.deepEqual(
          failed.map((c) => c.name),
          [expected],
          `block ${block}`,
        );
        assert.match(failed[0]!.detail, corruptAt(vdir, blockOffset(b, block)), `block ${block}`);
      }
    });
  }

  it('indexes spanning many blocks: a byte flipped in any one block fails the storage read', async () => {
    const b = await catalogBlocks('wide');
    const indexBlocks = b.total - b.metadata.length - new Set([...b.data.values()].flat()).size;
    assert.ok(indexBlocks >= 6, `${indexBlocks} index blocks`);
    const sound = path.join(root, 'versions', 'wide', 'catalog.duckdb');
    const scratch = path.join(dir, 'wide-damaged');
    mkdirSync(scratch);
    const file = path.join(scratch, 'catalog.duckdb');
    for (let block = 0; block < b.total; block++) {
      copyFileSync(sound, file);
      flipByte(file, blockOffset(b, block) + b.size / 2);
      await assert.rejects(
        readCatalogStorage(scratch),
        (err: unknown) => {
          assert.ok(err instanceof IndexCorruptionError, String(err));
          assert.match(err.message, corruptAt(scratch, blockOffset(b, block)));
          return true;
        },
        `block ${block}`,
      );
    }
  });

  it('a sound catalog passes, saying what was read', async () => {
    const report = await verify({ root, version: 'mat', level: 2 });
    assert.equal(report.exitCode, 0);
    assert.match(
      check(report, 'catalog.storage').detail,
      new RegExp(
        `^read in full: chunk_embedding_hash ${ROWS} rows x 2 columns, chunk_meta ${ROWS} rows x 6 columns, faiss_idmap_mat ${ROWS} rows x 2 columns; ` +
          `through index chunk_meta_id \\(${ROWS} keys\\), faiss_idmap_mat_external_id \\(${ROWS} keys\\); ` +
          `\\d+ of \\d+ blocks of 256 KiB in use$`,
      ),
    );
  });
});

describe('a damaged data block of chunk_meta, resealed (the issue)', () => {
  it('verify --level 3 fails only catalog.storage (4); publish refuses; search exits 4; openIndex reports corruption', async () => {
    const b = await catalogBlocks('plain');
    const [block] = b.data.get('chunk_meta')!;
    const { version, vdir } = await damaged('plain', block!);

    // Every check that existed before catalog.storage passes: this is what used to be published.
    const res = runCli(['--root', root, 'verify', version, '--level', '3', '--json']);
    assert.equal(res.code, 4, res.stderr);
    const report = JSON.parse(res.stdout) as VerifyReport;
    assertOnlyStorageFails(report, /: reading table chunk_meta: IO Error: Corrupt database file/);
    assert.match(check(report, 'catalog.storage').detail, corruptAt(vdir, blockOffset(b, block!)));

    await assert.rejects(publish({ root, version, reason: 'test' }), (err: unknown) => {
      assert.ok(err instanceof IndexCorruptionError, String(err));
      assert.match(err.message, /catalog\.storage: .*catalog\.duckdb: reading table chunk_meta: /);
      return true;
    });
    assert.equal(currentTarget(root), undefined);

    const search = runCli(['--root', root, 'search', version, '--id', '7', '--k', '3']);
    assert.equal(search.code, 4, search.stderr);
    assert.match(
      search.stderr,
      /catalog\.duckdb: damaged: IO Error: Corrupt database file: .* in block at location/,
    );
    assert.doesNotMatch(search.stderr, /internal error/);

    const handle = await openIndex({ root, version });
    try {
      await assert.rejects(handle.search(QUERY, 3), (err: unknown) => {
        assert.ok(err instanceof IndexCorruptionError, String(err));
        assert.match(err.message, corruptAt(vdir, blockOffset(b, block!)));
        return true;
      });
    } finally {
      await handle.close();
    }
  });

  it('a damaged index block fails catalog.storage naming the index, and search exits 4', async () => {
    const b = await catalogBlocks('plain');
    const used = new Set([...b.metadata, ...[...b.data.values()].flat()]);
    const index = Array.from({ length: b.total }, (_, i) => i).find((i) => !used.has(i));
    assert.ok(index !== undefined, 'an index block');
    const { version } = await damaged('plain', index);
    const report = await verify({ root, version, level: 3 });
    assertOnlyStorageFails(report, /: reading index chunk_meta_id: IO Error: Corrupt database file/);
    const search = runCli(['--root', root, 'search', version, '--id', '7', '--k', '3']);
    assert.equal(search.code, 4, search.stderr);
    assert.match(search.stderr, /catalog\.duckdb: damaged: IO Error: Corrupt database file/);
  });
});

describe('a damaged catalog.duckdb, not resealed', () => {
  it('verify fails its checksum (4); search exits 4 and openIndex reports corruption instead of an internal error', async () => {
    const b = await catalogBlocks('plain');
    const [block] = b.data.get('chunk_meta')!;
    const { version, vdir } = await damaged('plain', block!, { sealed: false });
    const report = await verify({ root, version, level: 1 });
    assert.equal(report.exitCode, 4);
    assert.match(check(report, 'files.checksum', 'catalog.duckdb').detail, /checksum mismatch/);

    const search = runCli(['--root', root, 'search', version, '--id', '1007', '--k', '3']);
    assert.equal(search.code, 4, search.stderr);
    assert.match(search.stderr, /catalog\.duckdb: damaged: IO Error: Corrupt database file/);

    const handle = await openIndex({ root, version });
    try {
      await assert.rejects(handle.search(QUERY, 3), IndexCorruptionError);
      await assert.rejects(handle.catalog.hydrate([7n]), (err: unknown) => {
        assert.ok(err instanceof IndexCorruptionError, String(err));
        assert.match(err.message, corruptAt(vdir, blockOffset(b, block!)));
        return true;
      });
    } finally {
      await handle.close();
    }
  });

  it('a damaged metadata block: openIndex throws IndexCorruptionError naming catalog.duckdb', async () => {
    const b = await catalogBlocks('plain');
    const { version } = await damaged('plain', b.metadata[0]!, { sealed: false });
    await assert.rejects(openIndex({ root, version }), (err: unknown) => {
      assert.ok(err instanceof IndexCorruptionError, String(err));
      assert.match(err.message, /catalog\.duckdb: .*Corrupt database file/);
      return true;
    });
  });
});
