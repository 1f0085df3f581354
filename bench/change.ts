/**
 * The 1% change of the incremental benches (bench/incremental.ts, bench/lancedb.ts): every
 * `period`-th row of a chunks file, offset 1 removed, 2 changed (embedding nudged), 3 copied under a
 * new id (added). `changedChunksFile` is the whole NEW file `build --base` reads; `changeDelta` is the
 * same change as a delta (ids to delete, rows to add), what a table store like LanceDB is handed.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';

import { DuckDBInstance } from '@duckdb/node-api';

/** Every `period`-th row is touched at each of the three offsets: `change` of the rows in all. */
export function changePeriod(change: number): number {
  return Math.max(3, Math.round(3 / change));
}

/** The file's rows numbered from 1 in file order (`rn`). */
const numbered = (base: string) =>
  `(SELECT * EXCLUDE (file_row_number), file_row_number + 1 AS rn FROM read_parquet('${base}', file_row_number = true))`;

function changedRows(base: string, period: number): string {
  return `SELECT * EXCLUDE (rn) REPLACE (list_transform(embedding, x -> (x * 0.9 + 0.01)::FLOAT) AS embedding)
            FROM ${numbered(base)} WHERE rn % ${period} = 2`;
}

function addedRows(base: string, period: number): string {
  return `SELECT * EXCLUDE (rn) REPLACE (id + 1000000000000 AS id, list_transform(embedding, x -> (x * 1.05)::FLOAT) AS embedding)
            FROM ${numbered(base)} WHERE rn % ${period} = 3`;
}

async function copyTo(sql: string, file: string): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  await c.run(`COPY (${sql}) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 100000)`);
  c.closeSync();
  db.closeSync();
}

/** NEW: the base file with the change applied (unchanged rows in their order, then the added ones). */
export async function changedChunksFile(dir: string, base: string, change: number): Promise<string> {
  const period = changePeriod(change);
  const fresh = path.join(dir, `change-new-${path.basename(base, '.parquet')}-${period}.parquet`);
  if (!existsSync(fresh)) {
    await copyTo(
      `SELECT * EXCLUDE (rn) REPLACE (CASE WHEN rn % ${period} = 2
         THEN list_transform(embedding, x -> (x * 0.9 + 0.01)::FLOAT) ELSE embedding END AS embedding)
         FROM ${numbered(base)} WHERE rn % ${period} != 1
       UNION ALL ${addedRows(base, period)}`,
      fresh,
    );
  }
  return fresh;
}

/** The change as a delta: the ids whose rows go (removed and changed), and the rows to add (changed and added). */
export async function changeDelta(
  dir: string,
  base: string,
  change: number,
): Promise<{ deleteIds: bigint[]; addFile: string }> {
  const period = changePeriod(change);
  const addFile = path.join(dir, `change-delta-${path.basename(base, '.parquet')}-${period}.parquet`);
  if (!existsSync(addFile))
    await copyTo(`${changedRows(base, period)} UNION ALL ${addedRows(base, period)}`, addFile);
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const res = await c.runAndReadAll(
    `SELECT id FROM ${numbered(base)} WHERE rn % ${period} IN (1, 2) ORDER BY id`,
  );
  const deleteIds = res.getRows().map((r) => BigInt(r[0] as bigint));
  c.closeSync();
  db.closeSync();
  return { deleteIds, addFile };
}
