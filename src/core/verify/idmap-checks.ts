/**
 * The idmap.* checks over typed arrays: idmap.parquet's two columns against each other and against
 * the index's id_map. At a million rows each is a few milliseconds: 64-bit values are compared as
 * pairs of 32-bit words or whole buffers, never turned into a BigInt per row.
 */
import { endianness } from 'node:os';

import type { IdMap } from '../parquet/idmap-reader.js';
import { Check, firstOf, type CheckResult } from './types.js';

/** How many offending rows or ids a detail names. */
export const SHOW = 5;

// Word order of an int64 in memory; every platform Node runs on today but s390x is little-endian.
const LO = endianness() === 'LE' ? 0 : 1;
const HI = 1 - LO;

function words(a: BigInt64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length * 2);
}

interface Offenders {
  count: number;
  first: number[];
}

/** Rows i where faiss_row[i] !== i. */
export function rowsOutOfOrder(faissRow: BigInt64Array): Offenders {
  const w = words(faissRow);
  const out: Offenders = { count: 0, first: [] };
  for (let i = 0; i < faissRow.length; i++) {
    if (w[2 * i + LO] !== i % 0x100000000 || w[2 * i + HI] !== Math.floor(i / 0x100000000)) {
      if (out.first.length < SHOW) out.first.push(i);
      out.count++;
    }
  }
  return out;
}

/** Rows where the two arrays differ (the caller has checked equal lengths). */
export function differingRows(a: BigInt64Array, b: BigInt64Array): Offenders {
  const out: Offenders = { count: 0, first: [] };
  const bytes = (x: BigInt64Array) => Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  if (bytes(a).equals(bytes(b))) return out;
  const wa = words(a);
  const wb = words(b);
  for (let i = 0; i < a.length; i++) {
    if (wa[2 * i] !== wb[2 * i] || wa[2 * i + 1] !== wb[2 * i + 1]) {
      if (out.first.length < SHOW) out.first.push(i);
      out.count++;
    }
  }
  return out;
}

export interface Duplicates {
  /** Rows beyond the first for each repeated id (n - distinct ids). */
  extraRows: number;
  /** Distinct repeated ids, smallest first, at most SHOW. */
  first: bigint[];
  distinctRepeated: number;
}

/** Repeated values, by sorting a copy (a native numeric sort) and comparing neighbours. */
export function duplicates(ids: BigInt64Array): Duplicates {
  const sorted = ids.slice().sort();
  const out: Duplicates = { extraRows: 0, first: [], distinctRepeated: 0 };
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) {
      out.extraRows++;
      if (i === 1 || sorted[i - 1] !== sorted[i - 2]) {
        out.distinctRepeated++;
        if (out.first.length < SHOW) out.first.push(sorted[i]!);
      }
    }
  }
  return out;
}

/** `idmap.rows`: one idmap row per FAISS row. */
export function checkRows(idmap: IdMap, ntotal: number, against: string, readMs = 0): CheckResult {
  const check = new Check('idmap.rows', undefined, readMs);
  const rows = idmap.externalId.length;
  return rows === ntotal
    ? check.pass(`${rows} rows = ${against}`)
    : check.fail(`idmap.parquet has ${rows} rows, ${against} is ${ntotal}`, 3);
}

/** `idmap.order`: faiss_row is 0..n-1 in file order. */
export function checkOrder(idmap: IdMap): CheckResult {
  const check = new Check('idmap.order');
  const bad = rowsOutOfOrder(idmap.faissRow);
  if (bad.count === 0) return check.pass(`faiss_row = 0..${idmap.faissRow.length - 1}`);
  const shown = bad.first.map((i) => `row ${i} has faiss_row ${idmap.faissRow[i]}`);
  return check.fail(
    `idmap.parquet: faiss_row is not 0..n-1 in ${bad.count} row${bad.count === 1 ? '' : 's'}: ${firstOf(shown, bad.count)}`,
    3,
  );
}

/** `idmap.unique`: every external id once. */
export function checkUnique(idmap: IdMap): CheckResult {
  const check = new Check('idmap.unique');
  const dups = duplicates(idmap.externalId);
  if (dups.extraRows === 0) return check.pass(`${idmap.externalId.length} distinct external ids`);
  return check.fail(
    `idmap.parquet: ${dups.distinctRepeated} external id${dups.distinctRepeated === 1 ? '' : 's'} repeated ` +
      `(${dups.extraRows} extra row${dups.extraRows === 1 ? '' : 's'}): ${firstOf(dups.first, dups.distinctRepeated)}`,
    3,
  );
}

/** `idmap.matches_index`: external_id, row by row, is the index's id_map. */
export function checkMatchesIndex(idmap: IdMap, indexIds: BigInt64Array): CheckResult {
  const check = new Check('idmap.matches_index');
  if (idmap.externalId.length !== indexIds.length) {
    return check.skip(
      `lengths differ (idmap ${idmap.externalId.length}, index ${indexIds.length}): see idmap.rows`,
    );
  }
  const diff = differingRows(idmap.externalId, indexIds);
  if (diff.count === 0)
    return check.pass(`external_id equals the index id_map in all ${indexIds.length} rows`);
  const shown = diff.first.map((i) => `row ${i}: idmap ${idmap.externalId[i]}, index ${indexIds[i]}`);
  return check.fail(
    `idmap.parquet disagrees with faiss.index id_map in ${diff.count} row${diff.count === 1 ? '' : 's'}: ` +
      firstOf(shown, diff.count),
    3,
  );
}
