/**
 * Structural damage to a faiss.index, done with the reference implementation (python3-faiss 1.7.3):
 * read the file, change one field of the graph, lists or codes in memory, write it back. Each is a
 * file FAISS reads without complaint; the checksum is resealed by the caller.
 */
import { runPython } from './python.js';

const SCRIPT = String.raw`
import json, sys
import faiss

file, op = sys.argv[1], sys.argv[2]
args = [int(a) for a in sys.argv[3:]]
outer = faiss.read_index(file)

def inner(ix, refine_base=True):
    ix = faiss.downcast_index(ix)
    while True:
        if isinstance(ix, (faiss.IndexIDMap2, faiss.IndexIDMap, faiss.IndexPreTransform)):
            ix = faiss.downcast_index(ix.index)
        elif refine_base and isinstance(ix, faiss.IndexRefine):
            ix = faiss.downcast_index(ix.base_index)
        else:
            return ix

ix = inner(outer)
out = {"class": type(ix).__name__, "ntotal": int(ix.ntotal)}

if op == "hnsw_link":  # node, slot on level 0, new value
    node, slot, value = args
    h = ix.hnsw
    offsets = faiss.vector_to_array(h.offsets)
    nb = faiss.vector_to_array(h.neighbors)
    at = int(offsets[node]) + slot
    out["old"] = int(nb[at])
    nb[at] = value
    faiss.copy_array_to_vector(nb, h.neighbors)
elif op == "hnsw_entry_point":
    out["old"] = int(ix.hnsw.entry_point)
    ix.hnsw.entry_point = args[0]
elif op == "ivf_id":  # the first entry of the first non-empty list := value
    il = ix.invlists
    lst = next(l for l in range(ix.nlist) if il.list_size(l) > 0)
    ids = faiss.rev_swig_ptr(il.get_ids(lst), il.list_size(lst))
    out.update(list=lst, old=int(ids[0]))
    ids[0] = args[0]
elif op == "ivf_shrink":  # the first non-empty list loses its last entry
    il = ix.invlists
    lst = next(l for l in range(ix.nlist) if il.list_size(l) > 0)
    size = il.list_size(lst)
    out.update(list=lst, size=int(size), dropped=int(faiss.rev_swig_ptr(il.get_ids(lst), size)[size - 1]))
    il.resize(lst, size - 1)
elif op == "idmap_short":  # id_map loses its last entry
    m = faiss.downcast_index(outer)
    ids = faiss.vector_to_array(m.id_map)
    faiss.copy_array_to_vector(ids[:-1], m.id_map)
elif op == "pq_centroids_short":
    pq = ix.pq
    c = faiss.vector_to_array(pq.centroids)
    out["old"] = int(c.size)
    faiss.copy_array_to_vector(c[: -int(pq.dsub)], pq.centroids)
elif op == "sq_trained_short":  # HNSW with SQ storage: the storage's ranges lose one value
    sq = faiss.downcast_index(ix.storage).sq
    t = faiss.vector_to_array(sq.trained)
    out["old"] = int(t.size)
    faiss.copy_array_to_vector(t[:-1], sq.trained)
else:
    raise SystemExit("unknown op " + op)

faiss.write_index(outer, file)
print(json.dumps(out))
`;

export type Damage =
  | 'hnsw_link'
  | 'hnsw_entry_point'
  | 'ivf_id'
  | 'ivf_shrink'
  | 'idmap_short'
  | 'pq_centroids_short'
  | 'sq_trained_short';

export interface DamageReport {
  /** The Python class of the index that was damaged (inside IDMap2 and a refine stage). */
  class: string;
  ntotal: number;
  old?: number;
  list?: number;
  size?: number;
  dropped?: number;
}

/** Applies `damage` to the index file in place and says what it changed. */
export function damageIndex(file: string, damage: Damage, ...args: number[]): DamageReport {
  return runPython<DamageReport>(SCRIPT, [file, damage, ...args.map(String)]);
}
