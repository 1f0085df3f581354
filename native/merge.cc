// mergeFrom(other): moves every vector of `other` into this index (FAISS merge_from), for the shard
// merge (src/core/shard/merge.ts). FAISS 1.7.3's IndexIDMap::merge_from calls the inner index's
// merge_from with add_id 0, so an IVF's inner row ids of the second index would restart at 0 and
// point at the first index's external ids; the IDMap2 pair is therefore merged here: the inner
// indexes with the IVF's ids shifted by the rows already held, then id_map and rev_map appended.
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/invlists/InvertedLists.h>

#include <string>

#include "addon_data.h"
#include "errors.h"
#include "index.h"

namespace indexctl {

namespace {

// IVF lists store their row ids explicitly (they must be shifted); flat-code indexes append codes
// and number rows implicitly (FAISS refuses a non-zero add_id there).
faiss::Index::idx_t RowShift(const faiss::Index* into) {
  return dynamic_cast<const faiss::IndexIVF*>(into) != nullptr ? into->ntotal : 0;
}

// IVF lists are merged entry by entry inside an OpenMP loop: a FAISS exception there (fast-scan's
// BlockInvertedLists refuse add_entries) cannot be caught and aborts the process. Only the plain
// in-memory lists are let through.
void CheckMergeableLists(const faiss::Index* index) {
  auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index);
  if (ivf == nullptr) return;
  if (dynamic_cast<const faiss::ArrayInvertedLists*>(ivf->invlists) == nullptr) {
    FAISS_THROW_FMT("cannot merge %s: its inverted lists (%s) cannot be merged in FAISS 1.7.3",
                    ClassName(index).c_str(), Demangle(typeid(*ivf->invlists)).c_str());
  }
}

void MergeInto(faiss::Index* into, faiss::Index* from) {
  auto* map_into = dynamic_cast<faiss::IndexIDMap2*>(into);
  auto* map_from = dynamic_cast<faiss::IndexIDMap2*>(from);
  if ((map_into == nullptr) != (map_from == nullptr)) {
    FAISS_THROW_FMT("cannot merge %s into %s: both or neither must be IndexIDMap2",
                    ClassName(from).c_str(), ClassName(into).c_str());
  }
  CheckMergeableLists(map_into != nullptr ? map_into->index : into);
  CheckMergeableLists(map_from != nullptr ? map_from->index : from);
  if (map_into == nullptr) {
    into->merge_from(*from, RowShift(into));
    return;
  }
  for (faiss::Index::idx_t id : map_from->id_map) {
    if (map_into->rev_map.count(id) != 0) {
      FAISS_THROW_FMT("cannot merge: id %lld is in both indexes", static_cast<long long>(id));
    }
  }
  size_t before = map_into->id_map.size();
  map_into->index->merge_from(*map_from->index, RowShift(map_into->index));
  map_into->id_map.insert(map_into->id_map.end(), map_from->id_map.begin(), map_from->id_map.end());
  for (size_t i = before; i < map_into->id_map.size(); i++) {
    map_into->rev_map[map_into->id_map[i]] = static_cast<faiss::Index::idx_t>(i);
  }
  map_into->ntotal = map_into->index->ntotal;
  map_from->id_map.clear();
  map_from->rev_map.clear();
  map_from->ntotal = 0;
}

}  // namespace

Napi::Value IndexWrap::MergeFrom(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  if (info.Length() < 1 || !info[0].IsObject() ||
      !info[0].As<Napi::Object>().InstanceOf(AddonData::Of(env).index_class.Value())) {
    throw Napi::TypeError::New(env, "other: expected a NativeIndex");
  }
  IndexWrap* other = Napi::ObjectWrap<IndexWrap>::Unwrap(info[0].As<Napi::Object>());
  if (other == this) throw MakeFaissError(env, "cannot merge an index into itself");
  faiss::Index* from = other->RequireIdle(env);
  if (from->d != index->d || from->metric_type != index->metric_type) {
    throw MakeFaissError(env, "cannot merge " + ClassName(from) + " (d=" + std::to_string(from->d) +
                                  ") into " + ClassName(index) + " (d=" + std::to_string(index->d) +
                                  "): dimension or metric differ");
  }
  Guard(env, [&] { MergeInto(index, from); });
  AccountMemory(env);
  other->AccountMemory(env);
  return env.Undefined();
}

}  // namespace indexctl
