// The structural walk of a loaded index (verify's index.structure check): every array FAISS
// indexes by a stored number is checked to be as long as that number says, the way Lucene's
// CheckIndex reads every byte. read_index accepts a graph link or a list id far outside its
// arrays; the first search that follows it reads memory FAISS never allocated and dies.
// Nothing here indexes an array before its size was checked.
#pragma once

#include <faiss/Index.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace faiss {
struct IndexHNSW;
struct IndexIVF;
struct ProductQuantizer;
struct ScalarQuantizer;
}  // namespace faiss

namespace indexctl::structure {

// What a walk read, and the first inconsistency it met (empty when none).
struct Walk {
  std::vector<std::string> checked;
  std::string problem;

  bool Failed() const { return !problem.empty(); }
  // Keeps only the first problem; returns false so that checks can `return w.Fail(...)`.
  bool Fail(const std::string& where, const std::string& what) {
    if (problem.empty()) problem = where + what;
    return false;
  }
  void Note(const std::string& where, const std::string& what) { checked.push_back(where + what); }
};

// What the labels an index returns must be. Under an IDMap or a refine stage they index arrays
// (id_map, the refine codes), so they must be the rows 0..ntotal-1; an IVF quantizer's labels are
// list numbers, its rows too. A bare IVF may hold whatever ids its caller added (>= 0).
enum class Labels { kRows, kAny };

// Walks `index` and what it wraps; `where` prefixes messages ("IVF quantizer: ").
bool WalkIndex(Walk& w, const faiss::Index* index, const std::string& where, Labels labels);

// structure_hnsw.cc
bool WalkHnsw(Walk& w, const faiss::IndexHNSW& index, const std::string& where);
// structure_ivf.cc
bool WalkIvf(Walk& w, const faiss::IndexIVF& index, const std::string& where, Labels labels);

// structure_codes.cc: the quantizers' own sizes, and flat code arrays.
bool CheckPq(Walk& w, const faiss::ProductQuantizer& pq, size_t d, const std::string& where);
bool CheckSq(Walk& w, const faiss::ScalarQuantizer& sq, size_t d, bool trained,
             const std::string& where);
bool WalkCodes(Walk& w, const faiss::Index* index, const std::string& where, bool* handled);

// a * b, or false when it does not fit in size_t (a crafted count must not wrap around).
inline bool Times(size_t a, size_t b, size_t* out) { return !__builtin_mul_overflow(a, b, out); }

std::string Str(int64_t v);

}  // namespace indexctl::structure
