// IVF indexes: the quantizer, each inverted list's codes and ids, the direct map. A search reads
// list_size(l) codes of code_size bytes from each probed list and returns its ids, which an
// IDMap wrapper then looks up in id_map without a bounds check.
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFFastScan.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexIVFPQFastScan.h>
#include <faiss/IndexIVFPQR.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/invlists/BlockInvertedLists.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/invlists/OnDiskInvertedLists.h>
#include <sys/stat.h>

#include <typeinfo>

#include "index.h"
#include "structure.h"

namespace indexctl::structure {

namespace {

// The code size the IVF's encoder produces, against the one it claims.
bool CheckEncoder(Walk& w, const faiss::IndexIVF& ix, const std::string& at) {
  const size_t d = static_cast<size_t>(ix.d);
  size_t want = ix.code_size;
  if (auto* fs = dynamic_cast<const faiss::IndexIVFPQFastScan*>(&ix)) {
    if (!CheckPq(w, fs->pq, d, at)) return false;
    want = fs->pq.code_size;
  } else if (auto* pq = dynamic_cast<const faiss::IndexIVFPQ*>(&ix)) {
    if (!CheckPq(w, pq->pq, d, at)) return false;
    want = pq->pq.code_size;
    if (auto* pqr = dynamic_cast<const faiss::IndexIVFPQR*>(&ix)) {
      size_t codes = 0;
      if (!CheckPq(w, pqr->refine_pq, d, at + "refine ")) return false;
      if (!Times(static_cast<size_t>(ix.ntotal), pqr->refine_pq.code_size, &codes) ||
          pqr->refine_codes.size() != codes) {
        return w.Fail(at, "IVFPQR refine_codes has " + Str(pqr->refine_codes.size()) +
                              " bytes for " + Str(ix.ntotal) + " x " +
                              Str(pqr->refine_pq.code_size));
      }
    }
  } else if (auto* sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer*>(&ix)) {
    if (!CheckSq(w, sq->sq, d, ix.is_trained, at)) return false;
    want = sq->sq.code_size;
  } else if (dynamic_cast<const faiss::IndexIVFFlat*>(&ix) != nullptr) {
    want = d * sizeof(float);
  }
  if (ix.code_size != want) {
    return w.Fail(at, "IVF code_size " + Str(ix.code_size) + ", its encoder makes " + Str(want) +
                          "-byte codes");
  }
  return true;
}

// The codes of each list, by the class of the lists: `codes_ok` is false for a class this walk
// does not know (its ids are then not read either).
bool CheckListCodes(Walk& w, const faiss::IndexIVF& ix, const faiss::InvertedLists& il, bool* known,
                    const std::string& at) {
  const size_t nlist = ix.nlist;
  *known = true;
  if (auto* fs = dynamic_cast<const faiss::IndexIVFFastScan*>(&ix)) {
    auto* bl = dynamic_cast<const faiss::BlockInvertedLists*>(&il);
    if (bl == nullptr) {
      return w.Fail(at, "fast-scan IVF has " + Demangle(typeid(il)) + ", not BlockInvertedLists");
    }
    // The fast-scan kernels read whole blocks of bbs codes of M2 / 2 bytes.
    const size_t block = static_cast<size_t>(fs->bbs) * fs->M2 / 2;
    if (fs->bbs <= 0 || bl->n_per_block != static_cast<size_t>(fs->bbs) ||
        bl->block_size != block) {
      return w.Fail(at, "IVF block lists hold " + Str(bl->n_per_block) + " codes in " +
                            Str(bl->block_size) + " bytes per block, the index needs " +
                            Str(fs->bbs) + " in " + Str(block));
    }
    if (bl->codes.size() != nlist || bl->ids.size() != nlist) {
      return w.Fail(at, "IVF block lists have " + Str(bl->codes.size()) + " code and " +
                            Str(bl->ids.size()) + " id lists for nlist " + Str(nlist));
    }
    for (size_t l = 0; l < nlist; l++) {
      const size_t n = bl->ids[l].size();
      const size_t want = (n + bl->n_per_block - 1) / bl->n_per_block * bl->block_size;
      if (bl->codes[l].size() != want) {
        return w.Fail(at, "IVF list " + Str(l) + " has " + Str(bl->codes[l].size()) +
                              " code bytes for " + Str(n) + " ids (needs " + Str(want) + ")");
      }
    }
    return true;
  }
  if (il.code_size != ix.code_size) {
    return w.Fail(at, "IVF inverted lists hold " + Str(il.code_size) + "-byte codes, the index " +
                          Str(ix.code_size) + "-byte");
  }
  if (auto* al = dynamic_cast<const faiss::ArrayInvertedLists*>(&il)) {
    if (al->codes.size() != nlist || al->ids.size() != nlist) {
      return w.Fail(at, "IVF inverted lists have " + Str(al->codes.size()) + " code and " +
                            Str(al->ids.size()) + " id lists for nlist " + Str(nlist));
    }
    for (size_t l = 0; l < nlist; l++) {
      size_t want = 0;
      if (!Times(al->ids[l].size(), il.code_size, &want) || al->codes[l].size() != want) {
        return w.Fail(at, "IVF list " + Str(l) + " has " + Str(al->codes[l].size()) +
                              " code bytes for " + Str(al->ids[l].size()) + " ids x " +
                              Str(il.code_size));
      }
    }
    return true;
  }
  if (auto* od = dynamic_cast<const faiss::OnDiskInvertedLists*>(&il)) {
    if (od->lists.size() != nlist) {
      return w.Fail(at, "IVF on-disk lists: " + Str(od->lists.size()) + " for nlist " + Str(nlist));
    }
    // The lists are mmapped: an entry past the end of the mapping is SIGBUS on first touch.
    // read_index with IO_FLAG_MMAP maps faiss.index itself (no filename, totsize its size at the
    // read); a separate lists file is checked against its size now.
    struct stat st {};
    if (od->totsize > 0 && od->ptr == nullptr) {
      return w.Fail(at, "IVF on-disk lists of " + Str(od->totsize) + " bytes are not mapped");
    }
    if (!od->filename.empty() && od->totsize > 0 &&
        (::stat(od->filename.c_str(), &st) != 0 || static_cast<size_t>(st.st_size) < od->totsize)) {
      return w.Fail(at, "IVF on-disk lists file " + od->filename + " is missing or shorter than " +
                            Str(od->totsize) + " bytes");
    }
    for (size_t l = 0; l < nlist; l++) {
      const faiss::OnDiskOneList& one = od->lists[l];
      size_t entry = 0, bytes = 0, end = 0;
      if (one.size > one.capacity ||
          __builtin_add_overflow(od->code_size, sizeof(faiss::Index::idx_t), &entry) ||
          !Times(one.capacity, entry, &bytes) || __builtin_add_overflow(one.offset, bytes, &end) ||
          end > od->totsize) {
        return w.Fail(at, "IVF on-disk list " + Str(l) + ": " + Str(one.size) + " of " +
                              Str(one.capacity) + " entries at offset " + Str(one.offset) +
                              " do not fit in " + Str(od->totsize) + " bytes");
      }
    }
    return true;
  }
  *known = false;
  return true;
}

// Every stored id: rows each at most once under a wrapper, else non-negative. Then the sum.
bool CheckListIds(Walk& w, const faiss::IndexIVF& ix, const faiss::InvertedLists& il, Labels labels,
                  const std::string& at) {
  const int64_t n = ix.ntotal;
  std::vector<bool> seen(labels == Labels::kRows ? static_cast<size_t>(n) : 0);
  size_t total = 0;
  for (size_t l = 0; l < ix.nlist; l++) {
    const size_t size = il.list_size(l);
    if (size == 0) continue;
    total += size;
    faiss::InvertedLists::ScopedIds ids(&il, l);
    for (size_t j = 0; j < size; j++) {
      const int64_t id = ids[j];
      if (labels == Labels::kAny) {
        if (id < 0) {
          return w.Fail(at, "IVF list " + Str(l) + " entry " + Str(j) + " holds id " + Str(id) +
                                " (ids must be >= 0)");
        }
        continue;
      }
      if (id < 0 || id >= n) {
        return w.Fail(at, "IVF list " + Str(l) + " entry " + Str(j) + " holds id " + Str(id) +
                              " outside [0, " + Str(n) + ")");
      }
      if (seen[id]) {
        return w.Fail(at, "IVF list " + Str(l) + " entry " + Str(j) + " holds id " + Str(id) +
                              ", which an earlier entry holds too");
      }
      seen[id] = true;
    }
  }
  if (total != static_cast<size_t>(n)) {
    std::string missing;
    for (size_t i = 0; i < seen.size(); i++) {
      if (!seen[i]) {
        missing = " (row " + Str(i) + " is in no list)";
        break;
      }
    }
    return w.Fail(at, "IVF list sizes sum to " + Str(total) + ", ntotal is " + Str(n) + missing);
  }
  return true;
}

// reconstruct() and remove_ids() follow the direct map into the lists.
bool CheckDirectMap(Walk& w, const faiss::IndexIVF& ix, const faiss::InvertedLists& il,
                    const std::string& at) {
  const faiss::DirectMap& dm = ix.direct_map;
  auto entry_ok = [&](int64_t lo) {
    if (lo < 0) return true;  // a removed entry
    const uint64_t list = faiss::lo_listno(lo), offset = faiss::lo_offset(lo);
    return list < ix.nlist && offset < il.list_size(list);
  };
  if (dm.type == faiss::DirectMap::Array) {
    if (dm.array.size() != static_cast<size_t>(ix.ntotal)) {
      return w.Fail(at, "IVF direct map has " + Str(dm.array.size()) + " entries for ntotal " +
                            Str(ix.ntotal));
    }
    for (size_t i = 0; i < dm.array.size(); i++) {
      if (!entry_ok(dm.array[i])) {
        return w.Fail(at, "IVF direct map entry " + Str(i) + " points to list " +
                              Str(faiss::lo_listno(dm.array[i])) + " offset " +
                              Str(faiss::lo_offset(dm.array[i])) + ", which does not exist");
      }
    }
  } else if (dm.type == faiss::DirectMap::Hashtable) {
    for (const auto& [id, lo] : dm.hashtable) {
      if (!entry_ok(lo)) {
        return w.Fail(at, "IVF direct map entry for id " + Str(id) + " points to list " +
                              Str(faiss::lo_listno(lo)) + " offset " + Str(faiss::lo_offset(lo)) +
                              ", which does not exist");
      }
    }
  }
  return true;
}

}  // namespace

bool WalkIvf(Walk& w, const faiss::IndexIVF& ix, const std::string& at, Labels labels) {
  const faiss::Index* q = ix.quantizer;
  if (q == nullptr) return w.Fail(at, "IVF has no quantizer");
  if (q->ntotal != static_cast<int64_t>(ix.nlist) || q->d != ix.d) {
    return w.Fail(at, "IVF quantizer holds " + Str(q->ntotal) + " x " + Str(q->d) +
                          " centroids for nlist " + Str(ix.nlist) + ", d " + Str(ix.d));
  }
  // The quantizer's labels are list numbers, used to index the lists: its rows.
  if (!WalkIndex(w, q, at + "IVF quantizer: ", Labels::kRows) || !CheckEncoder(w, ix, at)) {
    return false;
  }
  const faiss::InvertedLists* il = ix.invlists;
  if (il == nullptr) {
    if (ix.ntotal != 0) return w.Fail(at, "IVF holds " + Str(ix.ntotal) + " vectors but no lists");
    w.Note(at, Demangle(typeid(ix)) + ": empty, no lists");
    return true;
  }
  if (il->nlist != ix.nlist) {
    return w.Fail(at, "IVF has nlist " + Str(ix.nlist) + ", its inverted lists " + Str(il->nlist));
  }
  bool known = true;
  if (!CheckListCodes(w, ix, *il, &known, at)) return false;
  if (!known) {
    w.Note(at, Demangle(typeid(ix)) + ": " + Str(ix.nlist) +
                   " lists; not inspected: " + Demangle(typeid(*il)));
    return true;
  }
  if (!CheckListIds(w, ix, *il, labels, at) || !CheckDirectMap(w, ix, *il, at)) return false;
  w.Note(at, Demangle(typeid(ix)) + ": " + Str(ix.nlist) + " lists (" + Demangle(typeid(*il)) +
                 "), " + Str(ix.ntotal) + " ids x " + Str(ix.code_size) + " B");
  return true;
}

}  // namespace indexctl::structure
