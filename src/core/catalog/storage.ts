/**
 * Reading every block of catalog.duckdb that holds something (verify's catalog.storage).
 *
 * DuckDB keeps a checksum in each block and checks it when the block is read, but reads lazily:
 * opening touches the headers and the metadata block, a query only the blocks it needs. A damaged
 * data or index block therefore passes every check that does not happen to read it (counts come
 * from row-group statistics) and breaks the first search that does. DuckDB 1.5 has no statement
 * that checks a whole file (`debug_verify_blocks` checks blocks it writes at checkpoint, which a
 * read-only catalog never does), so this reads everything the catalog holds:
 *
 * - each table in full, every column of every row hashed, which reads every data segment, dictionary
 *   and overflow-string block;
 * - each single-column ART index in full, through a range scan from the column's minimum that
 *   DuckDB answers from the index, which reads every node and leaf;
 * - `pragma_storage_info` and `database_size` for the block counts the report gives.
 *
 * Two settings make that possible, on an instance of its own so that they change no other query.
 * Statistics propagation is off: else `count(col)` of a column without NULLs is answered from
 * row-group statistics, and a filter every row passes is dropped, index scan and all. And the index
 * scan threshold is set, per index, to one less than the keys it holds: DuckDB walks the ART leaf by
 * leaf collecting row ids and gives up for a table scan when it collects more than the threshold,
 * so it visits every leaf (the last one is the one that tips it over) and then counts by scanning,
 * without fetching a million rows one by one through their row ids (that fetch is 5x the walk:
 * 1.7 s of CPU against 0.3 s per index at 1M rows). An index that holds fewer keys than its column
 * has values never tips over, and is caught by its count.
 *
 * test/verify-catalog-corruption.test.ts flips a byte in every block of catalog files whose indexes
 * span many blocks and expects each one to be caught, so a DuckDB that stops behaving this way is
 * noticed.
 */
import path from 'node:path';

import type { DuckDBConnection, DuckDBType, DuckDBValue } from '@duckdb/node-api';

import { IndexCorruptionError } from '../errors.js';
import type { DuckDBLimits } from './duckdb-limits.js';
import { connectCatalog, disconnect } from './connect.js';
import { asCatalogCorruption } from './corruption.js';
import { ident } from './create.js';
import { CATALOG_FILE } from './location.js';

export interface StorageTable {
  name: string;
  rows: number;
  columns: number;
  /** Distinct blocks its column segments live in (`pragma_storage_info`). */
  blocks: number;
}

export interface StorageIndex {
  name: string;
  table: string;
  /** The indexed column; absent for an index on an expression or several columns. */
  column?: string;
  /** Keys read through the index; absent when it could not be traversed (see `column`). */
  keys?: number;
}

export interface CatalogStorage {
  blockSize: number;
  totalBlocks: number;
  usedBlocks: number;
  freeBlocks: number;
  tables: StorageTable[];
  indexes: StorageIndex[];
}

const SETTINGS = {
  disabled_optimizers: 'statistics_propagation',
  // The threshold is max(index_scan_max_count, index_scan_percentage x rows): the count alone rules.
  index_scan_percentage: '0',
};

interface TableRef {
  schema: string;
  name: string;
  /** Schema-qualified and quoted. */
  sql: string;
}

async function rows(connection: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await connection.runAndReadAll(sql)).getRowObjectsJS();
}

/** `[id]` -> `id`; undefined for several columns or an expression. */
function indexedColumn(expressions: string, columns: readonly string[]): string | undefined {
  const inner = expressions.replace(/^\[(.*)\]$/s, '$1').trim();
  const unquoted = /^"(.*)"$/s.test(inner) ? inner.slice(1, -1).replaceAll('""', '"') : inner;
  return columns.includes(unquoted) ? unquoted : undefined;
}

/**
 * Reads every table and index of `<versionDir>/catalog.duckdb`. Throws IndexCorruptionError naming
 * the file and DuckDB's message when a block is damaged or an index disagrees with its table; any
 * other DuckDB error is thrown as it is.
 */
export async function readCatalogStorage(versionDir: string, limits?: DuckDBLimits): Promise<CatalogStorage> {
  const dir = path.resolve(versionDir);
  const file = path.join(dir, CATALOG_FILE);
  const handle = await connectCatalog(file, dir, 'read-only', SETTINGS, limits);
  const { connection } = handle;
  const read = <T>(what: string, run: () => Promise<T>): Promise<T> =>
    run().catch((err: unknown) => {
      throw asCatalogCorruption(file, err, what);
    });
  try {
    const [size] = await read('database_size', () => rows(connection, 'PRAGMA database_size'));
    const tableRows = await read('listing tables', () =>
      rows(
        connection,
        `SELECT schema_name, table_name FROM duckdb_tables()
          WHERE database_name = current_database() ORDER BY schema_name, table_name`,
      ),
    );
    const refs = new Map<string, TableRef & { columns: string[] }>();
    for (const row of tableRows) {
      const schema = String(row.schema_name);
      const name = String(row.table_name);
      const columns = (
        await read(`listing the columns of ${name}`, () =>
          connection.runAndReadAll(
            `SELECT column_name FROM duckdb_columns()
              WHERE database_name = current_database() AND schema_name = $schema AND table_name = $name
              ORDER BY column_index`,
            { schema, name },
          ),
        )
      )
        .getRowsJS()
        .map(([column]) => String(column));
      refs.set(`${schema}.${name}`, { schema, name, sql: `${ident(schema)}.${ident(name)}`, columns });
    }
    const indexRows = await read('listing indexes', () =>
      rows(
        connection,
        `SELECT index_name, schema_name, table_name, expressions FROM duckdb_indexes()
          WHERE database_name = current_database() ORDER BY index_name`,
      ),
    );
    const indexed = indexRows.map((row) => {
      const table = refs.get(`${String(row.schema_name)}.${String(row.table_name)}`);
      const column = table ? indexedColumn(String(row.expressions), table.columns) : undefined;
      return { name: String(row.index_name), table, column };
    });

    const tables: StorageTable[] = [];
    // Per table and indexed column: the minimum (and its type, to bind it back) and non-NULL count.
    const keys = new Map<string, { min: DuckDBValue; type: DuckDBType; count: number }>();
    for (const table of refs.values()) {
      const columns = [
        ...new Set(indexed.filter((i) => i.table === table && i.column).map((i) => i.column!)),
      ];
      const reader = await read(`reading table ${table.name}`, () =>
        connection.runAndReadAll(
          `SELECT count(*)${columns.map((c) => `, min(${ident(c)}), count(${ident(c)})`).join('')}
             ${table.columns.length > 0 ? ', bit_xor(hash(COLUMNS(*)))' : ''} FROM ${table.sql}`,
        ),
      );
      const values = reader.getRows()[0]!;
      columns.forEach((c, i) => {
        keys.set(`${table.sql}.${c}`, {
          min: values[1 + 2 * i]!,
          type: reader.columnType(1 + 2 * i),
          count: Number(values[2 + 2 * i]),
        });
      });
      const [segments] = await read(`reading the storage of table ${table.name}`, () =>
        rows(
          connection,
          `SELECT count(DISTINCT b) AS blocks FROM (
             SELECT block_id AS b FROM pragma_storage_info('${table.sql.replaceAll("'", "''")}') WHERE block_id >= 0
             UNION ALL SELECT unnest(additional_block_ids) FROM pragma_storage_info('${table.sql.replaceAll("'", "''")}'))`,
        ),
      );
      tables.push({
        name: table.name,
        rows: Number(values[0]),
        columns: table.columns.length,
        blocks: Number(segments!.blocks),
      });
    }

    const indexes: StorageIndex[] = [];
    for (const index of indexed) {
      if (!index.table || !index.column) {
        indexes.push({ name: index.name, table: index.table?.name ?? '?' });
        continue;
      }
      const key = keys.get(`${index.table.sql}.${index.column}`)!;
      let count = 0;
      if (key.min !== null) {
        // At least 1: a threshold of 0 might read as "never use the index".
        const threshold = Math.max(key.count - 1, 1);
        const reader = await read(`reading index ${index.name}`, async () => {
          await connection.run(`SET index_scan_max_count = ${threshold}`);
          return connection.runAndReadAll(
            `SELECT count(*) FROM ${index.table!.sql} WHERE ${ident(index.column!)} >= $min`,
            { min: key.min },
            { min: key.type },
          );
        });
        count = Number(reader.getRowsJS()[0]![0]);
      }
      if (count !== key.count) {
        throw new IndexCorruptionError(
          `${file}: index ${index.name} on ${index.table.name}(${index.column}) holds ${count} keys ` +
            `for ${key.count} non-NULL values in the table`,
        );
      }
      indexes.push({ name: index.name, table: index.table.name, column: index.column, keys: count });
    }
    return {
      blockSize: Number(size!.block_size),
      totalBlocks: Number(size!.total_blocks),
      usedBlocks: Number(size!.used_blocks),
      freeBlocks: Number(size!.free_blocks),
      tables,
      indexes,
    };
  } finally {
    disconnect(handle);
  }
}
