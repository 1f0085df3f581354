/**
 * Writes test fixtures with DuckDB, the most common producer of real chunks files: `FLOAT[]` columns
 * become Parquet lists that read back as Arrow `List<Float32>`.
 */
import { after, before } from 'node:test';

import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

/**
 * `COPY (select) TO file`. DuckDB rounds row groups up to whole vectors (2048 rows), so a fixture
 * with several row groups needs more than 2048 rows. COPY cannot take its target as a parameter;
 * test paths come from tmpDir(), and quotes are doubled anyway.
 */
export async function copyToParquet(file: string, select: string, rowGroupSize?: number): Promise<void> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      const options = ['FORMAT parquet', 'COMPRESSION snappy'];
      if (rowGroupSize !== undefined) options.push(`ROW_GROUP_SIZE ${rowGroupSize}`);
      await connection.run(`COPY (${select}) TO '${file.replace(/'/g, "''")}' (${options.join(', ')})`);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** Runs one query against a fresh in-memory DuckDB and returns its rows. */
export async function duckdbRows(sql: string, params: string[] = []): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(':memory:');
  try {
    const connection = await instance.connect();
    try {
      return (await connection.runAndReadAll(sql, params)).getRows();
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** One in-memory DuckDB connection for a whole test file, closed when the file ends. */
export function sharedDuckDB(): () => DuckDBConnection {
  let instance: DuckDBInstance | undefined;
  let connection: DuckDBConnection | undefined;
  before(async () => {
    instance = await DuckDBInstance.create(':memory:');
    connection = await instance.connect();
  });
  after(() => {
    connection?.closeSync();
    instance?.closeSync();
  });
  return () => {
    if (!connection) throw new Error('sharedDuckDB() is used before its before() hook ran');
    return connection;
  };
}
