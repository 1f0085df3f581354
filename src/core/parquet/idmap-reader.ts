/**
 * Reads idmap.parquet back (for verify and tests) one row group at a time into two preallocated
 * BigInt64Arrays. A file that is not a readable idmap is corruption: indexctl wrote it.
 */
import { openAsBlob } from 'node:fs';

import * as arrow from 'apache-arrow';
import { ParquetFile } from 'parquet-wasm';

import { IndexCorruptionError } from '../errors.js';
import { IDMAP_COLUMNS } from './idmap-writer.js';

export interface IdMap {
  faissRow: BigInt64Array;
  externalId: BigInt64Array;
}

export async function readIdMap(file: string): Promise<IdMap> {
  let parquet: ParquetFile;
  try {
    parquet = await ParquetFile.fromFile(await openAsBlob(file));
  } catch (err) {
    throw new IndexCorruptionError(`${file}: cannot be read as Parquet: ${describe(err)}`, { cause: err });
  }
  try {
    // The schema first: parquet-wasm's own complaint about a missing column names no alternatives.
    const schema = arrow.tableFromIPC(parquet.schema().intoIPCStream());
    for (const name of IDMAP_COLUMNS) column(file, schema, name);
    const meta = parquet.metadata();
    const n = meta.fileMetadata().numRows();
    const faissRow = new BigInt64Array(n);
    const externalId = new BigInt64Array(n);
    let offset = 0;
    for (let group = 0; group < meta.numRowGroups(); group++) {
      const wasmTable = await parquet.read({
        rowGroups: [group],
        columns: [...IDMAP_COLUMNS],
        batchSize: Math.max(1, meta.rowGroup(group).numRows()),
      });
      const table = arrow.tableFromIPC(wasmTable.intoIPCStream());
      const [rows, ids] = IDMAP_COLUMNS.map((name) => column(file, table, name));
      offset = copyColumn(rows!, faissRow, offset, file, 'faiss_row');
      copyColumn(ids!, externalId, offset - rows!.length, file, 'external_id');
    }
    if (offset !== n)
      throw new IndexCorruptionError(`${file}: the footer says ${n} rows but ${offset} were read`);
    return { faissRow, externalId };
  } catch (err) {
    if (err instanceof IndexCorruptionError) throw err;
    throw new IndexCorruptionError(`${file}: not a readable idmap: ${describe(err)}`, { cause: err });
  } finally {
    parquet.free();
  }
}

function column(file: string, table: arrow.Table, name: string): arrow.Vector {
  const vector = table.getChild(name);
  if (!vector) {
    const present = table.schema.fields.map((f) => f.name).join(', ');
    throw new IndexCorruptionError(`${file}: idmap has no column "${name}" (columns: ${present})`);
  }
  if (!arrow.DataType.isInt(vector.type) || vector.type.bitWidth !== 64 || !vector.type.isSigned) {
    throw new IndexCorruptionError(
      `${file}: idmap column "${name}" has type ${String(vector.type)}, expected Int64`,
    );
  }
  return vector;
}

function copyColumn(
  vector: arrow.Vector,
  into: BigInt64Array,
  offset: number,
  file: string,
  name: string,
): number {
  if (vector.nullCount > 0)
    throw new IndexCorruptionError(`${file}: idmap column "${name}" has ${vector.nullCount} nulls`);
  for (const data of vector.data) {
    into.set((data.values as BigInt64Array).subarray(data.offset, data.offset + data.length), offset);
    offset += data.length;
  }
  return offset;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
