// Reserving storage for a known number of vectors before adding them in batches. Without it each
// batch grows std::vectors geometrically (copying everything added so far into fresh memory) and
// rehashes IndexIDMap2's rev_map. (Advising the reservation for huge pages was measured too: the
// kernel's huge-page faults made a 1M x 384 Flat add 2-3x slower on this VM, so it is not done.)
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>

#include "args.h"
#include "errors.h"
#include "index.h"

namespace indexctl {

namespace {

template <typename T>
void ReserveVector(std::vector<T>& v, size_t count) {
  if (v.capacity() >= count) return;
  v.reserve(count);
}

void Reserve(faiss::Index* index, size_t n) {
  if (auto* map = dynamic_cast<faiss::IndexIDMap*>(index)) {
    ReserveVector(map->id_map, n);
    if (auto* map2 = dynamic_cast<faiss::IndexIDMap2*>(index)) map2->rev_map.reserve(n);
    Reserve(map->index, n);
  } else if (auto* pt = dynamic_cast<faiss::IndexPreTransform*>(index)) {
    Reserve(pt->index, n);
  } else if (auto* rf = dynamic_cast<faiss::IndexRefine*>(index)) {
    Reserve(rf->base_index, n);
    Reserve(rf->refine_index, n);
  } else if (auto* hnsw = dynamic_cast<faiss::IndexHNSW*>(index)) {
    Reserve(hnsw->storage, n);
    ReserveVector(hnsw->hnsw.levels, n);
    ReserveVector(hnsw->hnsw.offsets, n + 1);
  } else if (auto* flat = dynamic_cast<faiss::IndexFlatCodes*>(index)) {
    ReserveVector(flat->codes, n * flat->code_size);
  }
  // IVF lists grow per list; their final sizes are unknown until the vectors are assigned.
}

}  // namespace

// reserve(totalVectors): capacity for that many vectors in all (not in addition to ntotal).
Napi::Value IndexWrap::ReserveVectors(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto n = static_cast<size_t>(IntArg(info, 0, "n", 0, (int64_t{1} << 53) - 1));
  Guard(env, [&] { Reserve(index, n); });
  return env.Undefined();
}

}  // namespace indexctl
