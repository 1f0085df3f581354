// Reserving storage for a known number of vectors before adding them in batches. Without it each
// batch grows std::vectors geometrically (copying everything added so far into fresh memory) and
// rehashes IndexIDMap2's rev_map; with it the codes land once in memory advised for huge pages.
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <sys/mman.h>

#include <cstdint>

#include "errors.h"
#include "index.h"

namespace indexctl {

namespace {

constexpr uintptr_t kHugePage = 2u << 20;

// Advises the untouched part of a reservation for transparent huge pages.
void AdviseHuge(void* data, size_t bytes) {
  auto begin = (reinterpret_cast<uintptr_t>(data) + kHugePage - 1) & ~(kHugePage - 1);
  auto end = (reinterpret_cast<uintptr_t>(data) + bytes) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
}

template <typename T>
void ReserveVector(std::vector<T>& v, size_t count) {
  if (v.capacity() >= count) return;
  v.reserve(count);
  AdviseHuge(v.data() + v.size(), (v.capacity() - v.size()) * sizeof(T));
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
  auto n = static_cast<size_t>(info[0].As<Napi::Number>().Int64Value());
  Guard(env, [&] { Reserve(index, n); });
  return env.Undefined();
}

}  // namespace indexctl
