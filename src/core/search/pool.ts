/**
 * Evaluation pools: the rows each retrieval channel (faiss, bm25, splade, ...) contributes for a
 * query, one per (query, hit): `query_id` VARCHAR, `channel` VARCHAR, `rank` INTEGER (1-based),
 * `chunk_id` BIGINT (joins the catalog's `v_faiss_join` on `id`), `score` DOUBLE, `explanations`
 * VARCHAR (JSON).
 *
 * A pool is a DIRECTORY of Parquet parts, one part per append, read as one table with
 * `read_parquet('<pool>/*.parquet')`. Appending never touches an existing part: DuckDB's Parquet
 * sink (`COPY ... TO`) writes the new rows to a hidden temp name in the pool directory, which is
 * synced and renamed to a unique `part-*.parquet`. So any number of processes can append at once
 * and none loses a row (one file rewritten per append lost the rows of whichever writer renamed
 * first), and a reader or a crash sees whole parts only: a temp name does not match `*.parquet`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, type Stats } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

import { DuckDBInstance, LIST, VARCHAR, listValue, type DuckDBConnection } from '@duckdb/node-api';

import { guardWrite, guardWriteSync } from '../util/env-io.js';
import { BadInputError } from '../errors.js';
import { fsyncDir, fsyncFile, tempPathFor } from '../util/fsync.js';

export interface PoolRow {
  query_id: string;
  /** The retrieval channel that produced the hit: 'faiss', 'bm25', 'splade', ... */
  channel: string;
  rank: number;
  chunk_id: bigint;
  score: number;
  /** JSON text saying why the channel returned the hit ('{}' when it says nothing). */
  explanations: string;
}

/** The pool columns, in order, with their DuckDB types. */
export const POOL_SCHEMA = [
  ['query_id', 'VARCHAR'],
  ['channel', 'VARCHAR'],
  ['rank', 'INTEGER'],
  ['chunk_id', 'BIGINT'],
  ['score', 'DOUBLE'],
  ['explanations', 'VARCHAR'],
] as const;

export const POOL_COLUMNS = POOL_SCHEMA.map(([name]) => name);

export interface PoolAppendReport {
  /** The pool directory. */
  pool: string;
  /** The part this append wrote (absent when there were no rows to append). */
  part?: string;
  appended: number;
  /** Rows in the pool's parts before this append, plus this append's (concurrent writers may add more). */
  rows: number;
}

const PART = /^part-.+\.parquet$/;

/** The kinds of directory entry that are neither a pool directory nor a (legacy) pool file. */
function kindOf(s: Stats): string {
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  return 'not a regular file or directory';
}

/**
 * The pool directory, created when missing. A single Parquet file (the pool format before parts)
 * is refused with how to convert it, not rewritten; a FIFO or device is refused before anything
 * opens it (opening a FIFO blocks until a writer comes).
 */
/**
 * Refuses what cannot be a pool before any work (search checks it before loading the index): a
 * FIFO or device is never opened, a file of the old single-file format gets the commands that
 * convert it. Returns whether the directory exists yet.
 */
export function checkPoolPath(pool: string): boolean {
  const dir = path.resolve(pool);
  const s = statSync(dir, { throwIfNoEntry: false });
  if (s === undefined) return false;
  if (s.isDirectory()) return true;
  if (s.isFile()) {
    throw new BadInputError(
      `${dir}: is a file (the single-file pool format of earlier releases); a pool is now a ` +
        `directory of Parquet parts, and this file can become one of them: mv '${dir}' '${dir}.legacy' && mkdir '${dir}' && ` +
        `mv '${dir}.legacy' '${dir}/part-legacy.parquet'`,
    );
  }
  throw new BadInputError(`${dir}: is ${kindOf(s)}, not a pool directory; not appending`);
}

function poolDirectory(pool: string): string {
  const dir = path.resolve(pool);
  if (!checkPoolPath(dir)) {
    // recursive: two appenders creating the same pool at once both succeed.
    guardWriteSync(`cannot create pool directory ${dir}`, dir, () => mkdirSync(dir, { recursive: true }));
  }
  return dir;
}

/** The pool's parts, sorted: whole `part-*.parquet` files only (temp names never match). */
export function poolParts(pool: string): string[] {
  const dir = path.resolve(pool);
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && PART.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort();
}

function checkRows(rows: readonly PoolRow[]): void {
  rows.forEach((r, i) => {
    const bad = (what: string) =>
      new BadInputError(`pool row ${i} (query_id ${JSON.stringify(r?.query_id)}): ${what}; nothing appended`);
    if (typeof r !== 'object' || r === null) throw bad('not an object');
    if (typeof r.query_id !== 'string') throw bad('query_id must be a string');
    if (typeof r.channel !== 'string' || r.channel === '') throw bad('channel must be a non-empty string');
    if (!Number.isInteger(r.rank) || r.rank < 1 || r.rank > 2 ** 31 - 1) {
      throw bad(`rank must be an integer from 1 to 2^31-1, got ${String(r.rank)}`);
    }
    if (typeof r.chunk_id !== 'bigint' || r.chunk_id < -(2n ** 63n) || r.chunk_id >= 2n ** 63n) {
      throw bad(`chunk_id must be an int64 bigint, got ${String(r.chunk_id)}`);
    }
    if (typeof r.score !== 'number' || Number.isNaN(r.score))
      throw bad(`score must be a number, got ${String(r.score)}`);
    if (typeof r.explanations !== 'string') throw bad('explanations must be a string (JSON)');
  });
}

async function withDuckDB<T>(work: (connection: DuckDBConnection) => Promise<T>): Promise<T> {
  const instance = await DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    threads: '1',
  });
  try {
    const connection = await instance.connect();
    try {
      return await work(connection);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** COPY cannot take its target as a parameter: the path goes in as a string literal, quotes doubled. */
function literal(file: string): string {
  return `'${file.replaceAll("'", "''")}'`;
}

async function writePart(connection: DuckDBConnection, rows: readonly PoolRow[], tmp: string): Promise<void> {
  await connection.run(
    `CREATE TABLE pool (${POOL_SCHEMA.map(([name, type]) => `${name} ${type} NOT NULL`).join(', ')})`,
  );
  const appender = await connection.createAppender('pool');
  try {
    for (const r of rows) {
      appender.appendVarchar(r.query_id);
      appender.appendVarchar(r.channel);
      appender.appendInteger(r.rank);
      appender.appendBigInt(r.chunk_id);
      appender.appendDouble(r.score);
      appender.appendVarchar(r.explanations);
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
  await connection.run(`COPY pool TO ${literal(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
}

/** Rows in the given parts, from their footers. */
async function countRows(connection: DuckDBConnection, parts: string[]): Promise<number> {
  if (parts.length === 0) return 0;
  try {
    const reader = await connection.runAndReadAll(
      'SELECT count(*) FROM read_parquet($parts)',
      { parts: listValue(parts) },
      { parts: LIST(VARCHAR) },
    );
    return Number(reader.getRowsJS()[0]![0]);
  } catch (err) {
    throw new BadInputError(
      `${path.dirname(parts[0]!)}: a part-*.parquet file is not readable as a pool part ` +
        `(${(err as Error).message.split('\n')[0]}); nothing appended`,
      { cause: err },
    );
  }
}

/**
 * Appends `rows` (any channel) to the pool directory `pool` (created when missing) as one new
 * Parquet part. Safe to call from any number of processes at once: each writes its own part.
 * Rows are checked first; a bad row appends nothing (BadInputError naming the row).
 */
export async function appendPool(pool: string, rows: readonly PoolRow[]): Promise<PoolAppendReport> {
  checkRows(rows);
  const dir = poolDirectory(pool);
  return withDuckDB(async (connection) => {
    // Counting first also reads every part's footer: a stranger among the parts is refused
    // before this append adds to the pool, not after.
    const before = await countRows(connection, poolParts(dir));
    if (rows.length === 0) return { pool: dir, appended: 0, rows: before };
    // Time first so `ls` lists parts in append order; pid and random bytes make the name unique.
    const stamp = new Date().toISOString().replace(/[-:.]/g, '');
    const part = path.join(dir, `part-${stamp}-${process.pid}-${randomBytes(4).toString('hex')}.parquet`);
    const tmp = tempPathFor(part);
    await guardWrite(`cannot write pool part ${part}`, part, async () => {
      try {
        await writePart(connection, rows, tmp);
        await fsyncFile(tmp);
        await rename(tmp, part);
      } catch (err) {
        await rm(tmp, { force: true });
        throw err;
      }
      await fsyncDir(dir);
    });
    return { pool: dir, part, appended: rows.length, rows: before + rows.length };
  });
}
