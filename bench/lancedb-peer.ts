/**
 * LanceDB, the peer of bench/lancedb.ts: `@lancedb/lancedb` 0.31.0 and its Arrow (apache-arrow 18)
 * are installed in bench/lancedb/node_modules, apart from indexctl's dependencies (which use Arrow
 * 21), so they are loaded through a require rooted there and typed here by the little this bench uses.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

import { readAllChunks } from '../src/core/parquet/chunks-reader.js';

export interface LanceQuery {
  column(name: string): LanceQuery;
  limit(n: number): LanceQuery;
  nprobes(n: number): LanceQuery;
  refineFactor(n: number): LanceQuery;
  select(columns: string[]): LanceQuery;
  toArray(): Promise<Record<string, unknown>[]>;
}

export interface LanceIndexStats {
  numIndexedRows: number;
  numUnindexedRows: number;
  indexType: string;
}

export interface LanceTable {
  add(data: unknown): Promise<unknown>;
  delete(predicate: string): Promise<unknown>;
  createIndex(column: string, options: { config: unknown }): Promise<void>;
  vectorSearch(vector: Float32Array): LanceQuery;
  countRows(): Promise<number>;
  version(): Promise<number>;
  checkout(version: number): Promise<void>;
  restore(): Promise<void>;
  optimize(): Promise<unknown>;
  listIndices(): Promise<{ name: string }[]>;
  indexStats(name: string): Promise<LanceIndexStats | undefined>;
  close(): void;
}

export interface LanceConnection {
  createTable(name: string, data: unknown, options?: { mode?: 'create' | 'overwrite' }): Promise<LanceTable>;
  openTable(name: string): Promise<LanceTable>;
  close(): void;
}

export interface IvfPqOptions {
  numPartitions: number;
  numSubVectors: number;
  numBits: number;
  distanceType: 'l2';
  maxIterations: number;
  sampleRate: number;
}

interface LanceModule {
  connect(uri: string): Promise<LanceConnection>;
  Index: { ivfPq(options: IvfPqOptions): unknown };
}

type Ctor<T = unknown> = new (...args: never[]) => T;

interface ArrowModule {
  makeData(props: Record<string, unknown>): unknown;
  makeVector(data: unknown): unknown;
  vectorFromArray(values: unknown[], type: unknown): unknown;
  Table: new (columns: Record<string, unknown>) => unknown;
  Float32: Ctor;
  Int32: Ctor;
  Int64: Ctor;
  Utf8: Ctor;
  Field: new (name: string, type: unknown, nullable: boolean) => unknown;
  FixedSizeList: new (size: number, child: unknown) => unknown;
}

const here = path.dirname(new URL(import.meta.url).pathname);
/** bench/lancedb/ in the source tree (this file runs from dist/bench/). */
export const peerDir = path.resolve(here, '../../bench/lancedb');

function peerRequire(): NodeJS.Require {
  if (!existsSync(path.join(peerDir, 'node_modules/@lancedb/lancedb'))) {
    throw new Error(
      `LanceDB is not installed in ${peerDir}: run \`npm ci --prefix bench/lancedb\` (scripts/setup.sh --test does)`,
    );
  }
  return createRequire(path.join(peerDir, 'package.json'));
}

export function loadLance(): LanceModule {
  return peerRequire()('@lancedb/lancedb') as LanceModule;
}

/** The LanceDB package's version, as installed. */
export function lanceVersion(): string {
  const file = path.join(peerDir, 'node_modules/@lancedb/lancedb/package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** A chunks file's rows as an Arrow 18 table: id, vector (FixedSizeList<Float32>), uri, lang, start_line, end_line. */
export async function chunksTable(file: string): Promise<{ table: unknown; rows: number; dim: number }> {
  const arrow = peerRequire()('apache-arrow') as ArrowModule;
  const all = await readAllChunks(file);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const meta = (
    await c.runAndReadAll(
      `SELECT id, uri, lang, start_line, end_line FROM read_parquet($1, file_row_number = true) ORDER BY file_row_number`,
      [file],
    )
  ).getRows();
  c.closeSync();
  db.closeSync();
  if (meta.length !== all.rows || meta.some((r, i) => r[0] !== all.ids[i])) {
    throw new Error(`${file}: the metadata rows do not line up with the vectors read`);
  }
  const n = all.rows;
  const int32 = (at: number) => Int32Array.from(meta, (r) => Number(r[at]));
  const plain = (type: unknown, data: ArrayBufferView) =>
    arrow.makeVector(arrow.makeData({ type, length: n, nullCount: 0, data }));
  const floats = arrow.makeData({
    type: new arrow.Float32(),
    length: n * all.dim,
    nullCount: 0,
    data: all.vectors,
  });
  const listType = new arrow.FixedSizeList(all.dim, new arrow.Field('item', new arrow.Float32(), true));
  const table = new arrow.Table({
    id: plain(new arrow.Int64(), all.ids),
    vector: arrow.makeVector(arrow.makeData({ type: listType, length: n, nullCount: 0, child: floats })),
    uri: arrow.vectorFromArray(
      meta.map((r) => r[1] as string),
      new arrow.Utf8(),
    ),
    lang: arrow.vectorFromArray(
      meta.map((r) => r[2] as string),
      new arrow.Utf8(),
    ),
    start_line: plain(new arrow.Int32(), int32(3)),
    end_line: plain(new arrow.Int32(), int32(4)),
  });
  return { table, rows: n, dim: all.dim };
}
