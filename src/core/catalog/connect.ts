/** One DuckDB instance and connection per catalog handle, configured the same way everywhere. */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

import { duckdbSettings, type DuckDBLimits } from './duckdb-limits.js';
import { IndexCorruptionError } from '../errors.js';
import { bindVersionDir } from './location.js';

export interface CatalogConnection {
  instance: DuckDBInstance;
  connection: DuckDBConnection;
}

/**
 * Opens `file` and binds the version directory its views resolve against. Extensions are never
 * installed or loaded behind our back: Parquet is built in, and the tool must work offline.
 * `settings` are DuckDB settings for this instance alone (most are global to an instance); `limits`
 * its memory and threads (duckdb-limits.ts), and `tempDirectory` where it spills.
 */
export async function connectCatalog(
  file: string,
  versionDir: string,
  mode: 'read-only' | 'read-write',
  settings: Record<string, string> = {},
  limits?: DuckDBLimits,
  tempDirectory?: string,
): Promise<CatalogConnection> {
  const config: Record<string, string> = {
    ...duckdbSettings(limits, tempDirectory),
    ...settings,
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
  };
  if (mode === 'read-only') config.access_mode = 'READ_ONLY';
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, config);
  } catch (err) {
    // Creating a new file fails for environmental reasons (permissions, disk), not corruption.
    if (mode === 'read-write') throw err;
    throw new IndexCorruptionError(`${file}: cannot open as a DuckDB database: ${message(err)}`, {
      cause: err,
    });
  }
  try {
    const connection = await instance.connect();
    await bindVersionDir(connection, versionDir);
    return { instance, connection };
  } catch (err) {
    instance.closeSync();
    throw err;
  }
}

export function disconnect({ instance, connection }: CatalogConnection): void {
  connection.closeSync();
  instance.closeSync();
}

export function message(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
