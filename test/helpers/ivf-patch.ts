/**
 * Byte patches of the inverted lists an IVF faiss.index stores inline (`ilar`: nlist, code_size,
 * the list sizes, then each list's codes and ids). Read with IO_FLAG_MMAP, FAISS 1.7.3 turns
 * the sizes (all of them, `full`, or (list, size) pairs of the non-empty ones, `sprs`) into offsets into the mapped file without comparing them with its length, so a size is
 * all it takes to send a search past the end of the file or into another list's bytes.
 */
import { readFileSync, writeFileSync } from 'node:fs';

interface ListTable {
  sizes: bigint[];
  /** Where list l's size is stored (a u64). */
  at: Map<number, number>;
}

function listTable(bytes: Buffer, file: string): ListTable {
  const at = bytes.indexOf('ilar');
  if (at < 0) throw new Error(`${file}: no inline (ilar) inverted lists`);
  const nlist = Number(bytes.readBigUInt64LE(at + 4));
  const kind = bytes.toString('latin1', at + 20, at + 24);
  const count = Number(bytes.readBigUInt64LE(at + 24));
  const first = at + 32;
  const sizes = Array.from({ length: nlist }, () => 0n);
  const where = new Map<number, number>();
  if (kind === 'full') {
    if (count !== nlist) throw new Error(`${file}: ${count} sizes for nlist ${nlist}`);
    for (let l = 0; l < nlist; l++) where.set(l, first + 8 * l);
  } else if (kind === 'sprs') {
    // (list, size) pairs of the non-empty lists.
    for (let i = 0; i < count / 2; i++)
      where.set(Number(bytes.readBigUInt64LE(first + 16 * i)), first + 16 * i + 8);
  } else throw new Error(`${file}: list sizes stored as ${kind}`);
  for (const [l, offset] of where) sizes[l] = bytes.readBigUInt64LE(offset);
  return { sizes, at: where };
}

export interface ListPatch {
  /** The lists whose sizes changed, old -> new. */
  changed: { list: number; from: bigint; to: bigint }[];
}

/**
 * `beyond-file`: the first non-empty list claims `extra` more entries than it holds, so it and every
 * list after it map past the end of the file. `shifted`: `k` entries move from the last non-empty
 * list to the first, the sizes still summing to ntotal: the first list's codes run past its own end
 * and its ids are read from another list's code bytes.
 */
export function patchIvfLists(file: string, how: 'beyond-file' | 'shifted', amount: number): ListPatch {
  const bytes = readFileSync(file);
  const t = listTable(bytes, file);
  const nonEmpty = t.sizes.flatMap((s, l) => (s > 0n ? [l] : []));
  const first = nonEmpty[0]!;
  const last = nonEmpty.at(-1)!;
  const n = BigInt(amount);
  const next = [...t.sizes];
  if (how === 'beyond-file') next[first]! += n;
  else {
    if (first === last || t.sizes[last]! < n)
      throw new Error(`${file}: no two lists to shift ${amount} entries between`);
    next[first]! += n;
    next[last]! -= n;
  }
  const changed = next.flatMap((to, list) =>
    to !== t.sizes[list] ? [{ list, from: t.sizes[list]!, to }] : [],
  );
  for (const c of changed) bytes.writeBigUInt64LE(c.to, t.at.get(c.list)!);
  writeFileSync(file, bytes);
  return { changed };
}
