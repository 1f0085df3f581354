// checkStructure(): the walk through the wrappers (IDMap, PreTransform, Refine) down to the
// parts that hold data (HNSW graphs, IVF lists, flat codes), and its N-API entry point.
#include "structure.h"

#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/VectorTransform.h>

#include <typeinfo>

#include "errors.h"
#include "index.h"

namespace indexctl::structure {

std::string Str(int64_t v) { return std::to_string(v); }

namespace {

std::string Name(const faiss::Index* index) { return Demangle(typeid(*index)); }

bool WalkIdMap(Walk& w, const faiss::IndexIDMap& map, const std::string& at) {
  const int64_t n = map.ntotal;
  auto* map2 = dynamic_cast<const faiss::IndexIDMap2*>(&map);
  const std::string name = map2 != nullptr ? "IndexIDMap2" : "IndexIDMap";
  if (map.index == nullptr) return w.Fail(at, name + " wraps no index");
  if (map.id_map.size() != static_cast<size_t>(n)) {
    return w.Fail(at,
                  name + " id_map has " + Str(map.id_map.size()) + " entries for ntotal " + Str(n));
  }
  if (map.index->ntotal != n) {
    return w.Fail(at, name + " holds " + Str(n) + " ids, its inner " + Name(map.index) + " holds " +
                          Str(map.index->ntotal) + " vectors");
  }
  if (map.index->d != map.d) {
    return w.Fail(at, name + " d " + Str(map.d) + ", inner index d " + Str(map.index->d));
  }
  std::string detail = "id_map " + Str(n);
  if (map2 != nullptr) {
    // read_index rebuilds rev_map from id_map: it is shorter only when an id repeats, which
    // index.consistency reports (an invariant, 3). It can never be longer.
    if (map2->rev_map.size() > static_cast<size_t>(n)) {
      return w.Fail(
          at, name + " rev_map has " + Str(map2->rev_map.size()) + " entries for ntotal " + Str(n));
    }
    detail += ", rev_map " + Str(map2->rev_map.size());
  }
  w.Note(at, name + ": " + detail);
  return WalkIndex(w, map.index, at, Labels::kRows);
}

bool WalkPreTransform(Walk& w, const faiss::IndexPreTransform& pt, const std::string& at,
                      Labels labels) {
  if (pt.index == nullptr) return w.Fail(at, "IndexPreTransform wraps no index");
  if (pt.index->ntotal != pt.ntotal) {
    return w.Fail(at, "IndexPreTransform ntotal " + Str(pt.ntotal) + ", inner index ntotal " +
                          Str(pt.index->ntotal));
  }
  int d = pt.d;
  for (size_t i = 0; i < pt.chain.size(); i++) {
    const faiss::VectorTransform* vt = pt.chain[i];
    const std::string step = "IndexPreTransform transform " + Str(i);
    if (vt == nullptr) return w.Fail(at, step + " is missing");
    if (vt->d_in != d) {
      return w.Fail(at, step + " takes d " + Str(vt->d_in) + ", gets d " + Str(d));
    }
    if (auto* lt = dynamic_cast<const faiss::LinearTransform*>(vt);
        lt != nullptr && lt->is_trained) {
      size_t want = 0;
      if (!Times(lt->d_in, lt->d_out, &want) || lt->A.size() != want) {
        return w.Fail(at, step + " matrix has " + Str(lt->A.size()) + " entries for " +
                              Str(lt->d_out) + " x " + Str(lt->d_in));
      }
      if (lt->have_bias && lt->b.size() != static_cast<size_t>(lt->d_out)) {
        return w.Fail(
            at, step + " bias has " + Str(lt->b.size()) + " entries for d_out " + Str(lt->d_out));
      }
    }
    d = vt->d_out;
  }
  if (pt.index->d != d) {
    return w.Fail(at,
                  "IndexPreTransform outputs d " + Str(d) + ", inner index d " + Str(pt.index->d));
  }
  w.Note(at, "IndexPreTransform: " + Str(pt.chain.size()) + " transform(s)");
  return WalkIndex(w, pt.index, at, labels);
}

bool WalkRefine(Walk& w, const faiss::IndexRefine& rf, const std::string& at) {
  const std::string name = Name(&rf);
  if (rf.base_index == nullptr || rf.refine_index == nullptr) {
    return w.Fail(at, name + " is missing its base or refine index");
  }
  for (const faiss::Index* part : {rf.base_index, rf.refine_index}) {
    if (part->ntotal != rf.ntotal || part->d != rf.d) {
      return w.Fail(at, name + " holds " + Str(rf.ntotal) + " x " + Str(rf.d) + ", its " +
                            (part == rf.base_index ? "base " : "refine ") + Name(part) + " holds " +
                            Str(part->ntotal) + " x " + Str(part->d));
    }
  }
  w.Note(at, name + ": base and refine hold " + Str(rf.ntotal));
  // The refine stage looks the base's labels up in the refine index: they must be its rows.
  return WalkIndex(w, rf.base_index, at + "refine base: ", Labels::kRows) &&
         WalkIndex(w, rf.refine_index, at + "refine index: ", Labels::kRows);
}

}  // namespace

bool WalkIndex(Walk& w, const faiss::Index* index, const std::string& at, Labels labels) {
  if (index == nullptr) return w.Fail(at, "missing index");
  if (index->d <= 0 || index->ntotal < 0) {
    return w.Fail(at, Name(index) + " has d " + Str(index->d) + ", ntotal " + Str(index->ntotal));
  }
  if (auto* map = dynamic_cast<const faiss::IndexIDMap*>(index)) return WalkIdMap(w, *map, at);
  if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    return WalkPreTransform(w, *pt, at, labels);
  }
  if (auto* rf = dynamic_cast<const faiss::IndexRefine*>(index)) return WalkRefine(w, *rf, at);
  if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index)) return WalkHnsw(w, *hnsw, at);
  if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) return WalkIvf(w, *ivf, at, labels);
  bool handled = false;
  bool ok = WalkCodes(w, index, at, &handled);
  if (!handled) w.Note(at, "not inspected: " + Name(index));
  return ok;
}

}  // namespace indexctl::structure

namespace indexctl {

// {ok, checked: string[], firstProblem?: string}. Never throws for what it finds: a walk that
// FAISS itself throws in is a finding too.
Napi::Value IndexWrap::CheckStructure(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  structure::Walk walk;
  try {
    structure::WalkIndex(walk, index, "", structure::Labels::kAny);
  } catch (...) {
    walk.Fail("", "the structure walk stopped: " + CurrentExceptionMessage());
  }
  Napi::Object out = Napi::Object::New(env);
  out.Set("ok", Napi::Boolean::New(env, !walk.Failed()));
  Napi::Array checked = Napi::Array::New(env, walk.checked.size());
  for (size_t i = 0; i < walk.checked.size(); i++) checked.Set(i, walk.checked[i]);
  out.Set("checked", checked);
  if (walk.Failed()) out.Set("firstProblem", walk.problem);
  return out;
}

}  // namespace indexctl
