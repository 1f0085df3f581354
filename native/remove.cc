// removeIds(ids) and coarseDistances(x), for incremental builds (src/core/build/incremental.ts).
//
// FAISS 1.7.3's IndexIDMap2::remove_ids compacts id_map, but an IVF inner index removes its entries
// without renumbering the rows the others keep in the inverted lists: afterwards a search maps
// inner rows through the compacted id_map to the wrong external ids, and a later add reuses row
// numbers still held. For an IDMap2 over an IVF (possibly behind a pre-transform) the removal is
// therefore done here: every list is compacted in order with its rows renumbered old -> new, then
// id_map and rev_map are rebuilt. Flat-code inner indexes compact their codes in order, which
// matches id_map, so FAISS's own removal is right for them.
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/impl/FaissAssert.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/invlists/InvertedLists.h>
#include <faiss/utils/distances.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <vector>

#include "args.h"
#include "errors.h"
#include "index.h"

namespace indexctl {

namespace {

using idx_t = faiss::Index::idx_t;

// The IVF under an IDMap2 and an optional pre-transform, or nullptr.
faiss::IndexIVF* InnerIvf(faiss::Index* inner, faiss::IndexPreTransform** transform) {
  *transform = dynamic_cast<faiss::IndexPreTransform*>(inner);
  return dynamic_cast<faiss::IndexIVF*>(*transform != nullptr ? (*transform)->index : inner);
}

size_t RemoveRenumbered(faiss::IndexIDMap2* map, faiss::IndexIVF* ivf,
                        faiss::IndexPreTransform* transform, const faiss::IDSelector& selector) {
  auto* lists = dynamic_cast<faiss::ArrayInvertedLists*>(ivf->invlists);
  if (lists == nullptr) {
    FAISS_THROW_FMT(
        "cannot remove from %s: its inverted lists (%s) cannot remove entries in FAISS 1.7.3",
        ClassName(map).c_str(), Demangle(typeid(*ivf->invlists)).c_str());
  }
  const size_t rows = map->id_map.size();
  std::vector<idx_t> renumber(rows);
  size_t kept = 0;
  for (size_t i = 0; i < rows; i++) {
    if (selector.is_member(map->id_map[i])) {
      renumber[i] = -1;
    } else {
      renumber[i] = static_cast<idx_t>(kept);
      map->id_map[kept++] = map->id_map[i];
    }
  }
  const size_t removed = rows - kept;
  if (removed == 0) return 0;
  // Checked before anything in the lists moves: a row number outside id_map is a damaged index.
  for (size_t l = 0; l < lists->nlist; l++) {
    for (idx_t row : lists->ids[l]) {
      if (row < 0 || static_cast<size_t>(row) >= rows) {
        FAISS_THROW_FMT("inverted list %zu holds row %lld outside [0, %zu): the index is damaged",
                        l, static_cast<long long>(row), rows);
      }
    }
  }
  const faiss::DirectMap::Type direct = ivf->direct_map.type;
  if (direct != faiss::DirectMap::NoMap) ivf->set_direct_map_type(faiss::DirectMap::NoMap);
  const size_t code_size = lists->code_size;
#pragma omp parallel for schedule(dynamic)
  for (size_t l = 0; l < lists->nlist; l++) {
    auto& ids = lists->ids[l];
    auto& codes = lists->codes[l];
    size_t w = 0;
    for (size_t r = 0; r < ids.size(); r++) {
      idx_t to = renumber[ids[r]];
      if (to < 0) continue;
      if (w != r) std::memmove(&codes[w * code_size], &codes[r * code_size], code_size);
      ids[w++] = to;
    }
    ids.resize(w);
    codes.resize(w * code_size);
  }
  ivf->ntotal -= static_cast<idx_t>(removed);
  if (transform != nullptr) transform->ntotal = ivf->ntotal;
  if (direct != faiss::DirectMap::NoMap) ivf->set_direct_map_type(direct);
  map->id_map.resize(kept);
  map->rev_map.clear();
  for (size_t i = 0; i < kept; i++) map->rev_map[map->id_map[i]] = static_cast<idx_t>(i);
  map->ntotal = static_cast<idx_t>(kept);
  return removed;
}

size_t Remove(faiss::Index* index, const faiss::IDSelector& selector) {
  auto* map = dynamic_cast<faiss::IndexIDMap2*>(index);
  faiss::IndexPreTransform* transform = nullptr;
  faiss::IndexIVF* ivf = map != nullptr ? InnerIvf(map->index, &transform) : nullptr;
  if (ivf == nullptr) return index->remove_ids(selector);
  return RemoveRenumbered(map, ivf, transform, selector);
}

}  // namespace

Napi::Value IndexWrap::RemoveIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto ids = BigInt64ArrayArg(info, 0, "ids");
  faiss::IDSelectorBatch selector(ids.ElementLength(), ids.Data());
  size_t removed = Guard(env, [&] { return Remove(index, selector); });
  AccountMemory(env);
  return Napi::Number::New(env, static_cast<double>(removed));
}

// The L2 distance of each vector to its nearest coarse centroid (after any pre-transform): the
// drift measure of an incremental build. Throws for an index without an IVF.
Napi::Value IndexWrap::CoarseDistances(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "vectors");
  int64_t n = CountVectors(env, x, index->d, "vectors");
  auto out = Napi::Float32Array::New(env, n);
  Guard(env, [&] {
    auto* map = dynamic_cast<faiss::IndexIDMap*>(index);
    faiss::IndexPreTransform* transform = nullptr;
    faiss::IndexIVF* ivf = InnerIvf(map != nullptr ? map->index : index, &transform);
    if (ivf == nullptr)
      FAISS_THROW_FMT("coarseDistances needs an IVF index, this is %s", ClassName(index).c_str());
    const float* xs = x.Data();
    std::unique_ptr<const float[]> transformed;
    if (transform != nullptr) {
      xs = transform->apply_chain(n, xs);
      if (xs != x.Data()) transformed.reset(xs);
    }
    std::vector<idx_t> labels(n);
    ivf->quantizer->assign(n, xs, labels.data());
    std::vector<float> centroid(ivf->d);
    float* dst = out.Data();
    for (int64_t i = 0; i < n; i++) {
      if (labels[i] < 0)
        FAISS_THROW_FMT("vector %lld has no coarse centroid", static_cast<long long>(i));
      ivf->quantizer->reconstruct(labels[i], centroid.data());
      dst[i] = std::sqrt(faiss::fvec_L2sqr(xs + i * ivf->d, centroid.data(), ivf->d));
    }
  });
  return out;
}

}  // namespace indexctl
