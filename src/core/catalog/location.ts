/**
 * How catalog.duckdb finds chunks.parquet and idmap.parquet without storing where they are.
 *
 * A root must survive being moved or copied (a restore from backup), so the views may not bake an
 * absolute path. The options that were tried, with DuckDB 1.5 (test/catalog.test.ts keeps them honest):
 *
 * - Relative paths in the views, resolved through the `file_search_path` setting: rejected. DuckDB
 *   looks in the process's working directory *before* the search path, so an operator who runs
 *   indexctl from a directory holding some other `chunks.parquet` (a very likely place) would
 *   silently hydrate from the wrong file. The setting is also comma-separated, so a directory with a
 *   comma in its name cannot be expressed.
 * - TEMP views re-created on every open: CREATE VIEW cannot take prepared parameters, so the path
 *   would have to be spliced into SQL.
 * - Chosen: the persisted views read
 *   `read_parquet(coalesce(getvariable('indexctl_version_dir'), '.') || '/chunks.parquet')`, and
 *   whoever opens the catalog binds the version directory with `SET VARIABLE indexctl_version_dir = $1`
 *   (a real prepared parameter, per connection). No path is ever stored or spliced. Without the
 *   variable the views resolve against the working directory, so `cd versions/<v> && duckdb
 *   catalog.duckdb` also works by hand.
 *
 * `read_parquet` treats its argument as a glob, so the directory is glob-escaped (`*`, `?`, `[` become
 * one-character classes) before it is bound; DuckDB's glob has no way to escape a backslash in a
 * pattern that also needs escaping, and DuckDB cannot open a database file under a path with `?` at
 * all, so those two cases are refused with a clear message instead of misbehaving.
 */
import path from 'node:path';

import type { DuckDBConnection } from '@duckdb/node-api';

import { UsageError } from '../errors.js';

export const CATALOG_FILE = 'catalog.duckdb';
export const CHUNKS_FILE = 'chunks.parquet';
export const IDMAP_FILE = 'idmap.parquet';

/** The DuckDB variable the persisted views read their directory from. */
export const VERSION_DIR_VARIABLE = 'indexctl_version_dir';

/** The table-function call a persisted view uses for one of the version's Parquet files. */
export function parquetSource(file: typeof CHUNKS_FILE | typeof IDMAP_FILE): string {
  return `read_parquet(coalesce(getvariable('${VERSION_DIR_VARIABLE}'), '.') || '/${file}')`;
}

/** The directory as `read_parquet` must see it: absolute, with glob metacharacters made literal. */
export function globLiteralDir(versionDir: string): string {
  const dir = path.resolve(versionDir);
  if (dir.includes('?')) {
    throw new UsageError(
      `${dir}: DuckDB cannot open a catalog under a path containing '?'; move the index root`,
    );
  }
  const hasGlob = /[*[]/.test(dir);
  if (hasGlob && dir.includes('\\')) {
    throw new UsageError(
      `${dir}: a path with both a backslash and '*' or '[' cannot be expressed to DuckDB's read_parquet; move the index root`,
    );
  }
  return hasGlob ? dir.replace(/[*[]/g, (ch) => `[${ch}]`) : dir;
}

/** Points this connection's views at `versionDir`; the path travels as a bound parameter. */
export async function bindVersionDir(connection: DuckDBConnection, versionDir: string): Promise<void> {
  await connection.run(`SET VARIABLE ${VERSION_DIR_VARIABLE} = $dir`, { dir: globLiteralDir(versionDir) });
}
