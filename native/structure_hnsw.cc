// The HNSW graph: FAISS follows offsets[node] + cum_nneighbor_per_level[level] into neighbors,
// and every link it finds into offsets and the storage, with no bounds check on any of them.
#include <faiss/IndexHNSW.h>

#include <typeinfo>

#include "index.h"
#include "structure.h"

namespace indexctl::structure {

namespace {

// cum_nneighbor_per_level: 0, then the link slots of levels 0..L-1, never decreasing.
bool CheckCumulative(Walk& w, const faiss::HNSW& h, const std::string& at) {
  const auto& cum = h.cum_nneighbor_per_level;
  if (cum.size() < 2 || cum[0] != 0) {
    return w.Fail(at, "HNSW cum_nneighbor_per_level has " + Str(cum.size()) +
                          " entries and must start 0 (got " + (cum.empty() ? "none" : Str(cum[0])) +
                          ")");
  }
  for (size_t l = 1; l < cum.size(); l++) {
    if (cum[l] < cum[l - 1]) {
      return w.Fail(at, "HNSW cum_nneighbor_per_level decreases at level " + Str(l) + " (" +
                            Str(cum[l - 1]) + " -> " + Str(cum[l]) + ")");
    }
  }
  return true;
}

// Each node's level count and its slice of neighbors, as prepare_level_tab lays them out.
bool CheckLayout(Walk& w, const faiss::HNSW& h, int64_t n, const std::string& at) {
  const auto& cum = h.cum_nneighbor_per_level;
  const int top = static_cast<int>(cum.size()) - 1;
  if (h.levels.size() != static_cast<size_t>(n)) {
    return w.Fail(at,
                  "HNSW levels has " + Str(h.levels.size()) + " entries for " + Str(n) + " nodes");
  }
  if (h.offsets.size() != static_cast<size_t>(n) + 1 || h.offsets[0] != 0) {
    return w.Fail(at, "HNSW offsets has " + Str(h.offsets.size()) + " entries for " + Str(n) +
                          " nodes (needs ntotal + 1, starting 0)");
  }
  for (int64_t i = 0; i < n; i++) {
    const int levels = h.levels[i];
    if (levels < 1 || levels > top) {
      return w.Fail(at, "HNSW node " + Str(i) + " has " + Str(levels) + " levels, outside [1, " +
                            Str(top) + "]");
    }
    const size_t from = h.offsets[i], to = h.offsets[i + 1];
    if (to < from || to - from != static_cast<size_t>(cum[levels])) {
      return w.Fail(at, "HNSW node " + Str(i) + ": offsets " + Str(from) + ".." + Str(to) +
                            " for " + Str(levels) + " levels, which need " + Str(cum[levels]) +
                            " link slots");
    }
  }
  if (h.neighbors.size() != h.offsets[n]) {
    return w.Fail(at, "HNSW neighbors has " + Str(h.neighbors.size()) +
                          " entries, offsets end at " + Str(h.offsets[n]));
  }
  return true;
}

// Search starts at entry_point on level max_level: both must be the top of the graph.
bool CheckEntryPoint(Walk& w, const faiss::HNSW& h, int64_t n, int* max_levels,
                     const std::string& at) {
  int64_t top_node = -1;
  *max_levels = 0;
  for (int64_t i = 0; i < n; i++) {
    if (h.levels[i] > *max_levels) *max_levels = h.levels[i], top_node = i;
  }
  const int64_t ep = h.entry_point;
  if (n == 0) {
    if (ep != -1 || h.max_level != -1) {
      return w.Fail(at, "empty HNSW has entry point " + Str(ep) + " and max level " +
                            Str(h.max_level) + " (expected -1, -1)");
    }
    return true;
  }
  if (ep < 0 || ep >= n) {
    return w.Fail(at, "HNSW entry point " + Str(ep) + " outside [0, " + Str(n) + ")");
  }
  if (h.max_level != *max_levels - 1) {
    return w.Fail(at, "HNSW max level " + Str(h.max_level) + ", but node " + Str(top_node) +
                          " reaches level " + Str(*max_levels - 1));
  }
  if (h.levels[ep] - 1 != h.max_level) {
    return w.Fail(at, "HNSW entry point " + Str(ep) + " reaches level " + Str(h.levels[ep] - 1) +
                          ", max level is " + Str(h.max_level));
  }
  return true;
}

// Every link in [-1, n); a link on level l > 0 must lead to a node that has level l, or the
// search reads that node's level-l slots past the end of its own.
bool CheckLinks(Walk& w, const faiss::HNSW& h, int64_t n, size_t* links, const std::string& at) {
  const auto& cum = h.cum_nneighbor_per_level;
  *links = 0;
  for (int64_t i = 0; i < n; i++) {
    for (int l = 0; l < h.levels[i]; l++) {
      const size_t begin = h.offsets[i] + cum[l], end = h.offsets[i] + cum[l + 1];
      for (size_t j = begin; j < end; j++) {
        const int64_t v = h.neighbors[j];
        if (v == -1) continue;
        if (v < -1 || v >= n) {
          return w.Fail(at, "HNSW node " + Str(i) + " level " + Str(l) + " link " + Str(j - begin) +
                                " = " + Str(v) + " outside [-1, " + Str(n) + ")");
        }
        if (l > 0 && h.levels[v] <= l) {
          return w.Fail(at, "HNSW node " + Str(i) + " level " + Str(l) + " link " + Str(j - begin) +
                                " = " + Str(v) + ", a node with no level " + Str(l) + " (it has " +
                                Str(h.levels[v]) + ")");
        }
        ++*links;
      }
    }
  }
  return true;
}

}  // namespace

bool WalkHnsw(Walk& w, const faiss::IndexHNSW& index, const std::string& at) {
  const faiss::HNSW& h = index.hnsw;
  const int64_t n = index.ntotal;
  int max_levels = 0;
  size_t links = 0;
  if (!CheckCumulative(w, h, at) || !CheckLayout(w, h, n, at) ||
      !CheckEntryPoint(w, h, n, &max_levels, at) || !CheckLinks(w, h, n, &links, at)) {
    return false;
  }
  const faiss::Index* storage = index.storage;
  if (storage == nullptr) return w.Fail(at, "HNSW has no storage");
  if (storage->ntotal != n || storage->d != index.d) {
    return w.Fail(at, "HNSW holds " + Str(n) + " x " + Str(index.d) + " nodes, its storage " +
                          Str(storage->ntotal) + " x " + Str(storage->d));
  }
  w.Note(at, Demangle(typeid(index)) + ": " + Str(n) + " nodes, " + Str(max_levels) + " levels, " +
                 Str(links) + " links, entry point " + Str(h.entry_point));
  return WalkIndex(w, storage, at + "HNSW storage: ", Labels::kRows);
}

}  // namespace indexctl::structure
