// Flat code arrays (Flat, PQ, SQ, LSH, 2-level, PQ fast-scan) and the sizes of the quantizers that
// decode them: a search reads ntotal x code_size bytes and decodes each with the quantizer's
// tables, so both must be as large as the numbers say.
#include <faiss/Index2Layer.h>
#include <faiss/IndexFlat.h>
#include <faiss/IndexFlatCodes.h>
#include <faiss/IndexLSH.h>
#include <faiss/IndexPQ.h>
#include <faiss/IndexPQFastScan.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/ProductQuantizer.h>
#include <faiss/impl/ScalarQuantizer.h>

#include <typeinfo>

#include "index.h"
#include "structure.h"

namespace indexctl::structure {

bool CheckPq(Walk& w, const faiss::ProductQuantizer& pq, size_t d, const std::string& at) {
  if (pq.d != d || pq.M == 0 || pq.d % pq.M != 0 || pq.nbits == 0 || pq.nbits > 24) {
    return w.Fail(at, "PQ has d " + Str(pq.d) + ", M " + Str(pq.M) + ", nbits " + Str(pq.nbits) +
                          " for index d " + Str(d));
  }
  const size_t ksub = size_t{1} << pq.nbits;
  if (pq.dsub != d / pq.M || pq.ksub != ksub || pq.code_size != (pq.M * pq.nbits + 7) / 8) {
    return w.Fail(at, "PQ " + Str(pq.M) + "x" + Str(pq.nbits) + " has dsub " + Str(pq.dsub) +
                          ", ksub " + Str(pq.ksub) + ", code_size " + Str(pq.code_size));
  }
  if (pq.centroids.size() != d * ksub) {
    return w.Fail(at, "PQ centroids has " + Str(pq.centroids.size()) + " floats for d " + Str(d) +
                          " x ksub " + Str(ksub));
  }
  return true;
}

bool CheckSq(Walk& w, const faiss::ScalarQuantizer& sq, size_t d, bool trained,
             const std::string& at) {
  using QT = faiss::ScalarQuantizer;
  if (sq.d != d) return w.Fail(at, "SQ d " + Str(sq.d) + ", index d " + Str(d));
  size_t ranges = 0;  // floats in `trained`: vmin and vdiff, per dimension or shared
  switch (sq.qtype) {
    case QT::QT_8bit:
    case QT::QT_4bit:
    case QT::QT_6bit:
      ranges = 2 * d;
      break;
    case QT::QT_8bit_uniform:
    case QT::QT_4bit_uniform:
      ranges = 2;
      break;
    case QT::QT_fp16:
    case QT::QT_8bit_direct:
      break;
    default:
      return w.Fail(at, "SQ has unknown quantizer type " + Str(sq.qtype));
  }
  // The code size FAISS derives for this type and d.
  QT fresh;
  fresh.d = sq.d;
  fresh.qtype = sq.qtype;
  fresh.set_derived_sizes();
  if (sq.code_size != fresh.code_size) {
    return w.Fail(at, "SQ type " + Str(sq.qtype) + " code_size " + Str(sq.code_size) + ", needs " +
                          Str(fresh.code_size) + " for d " + Str(d));
  }
  if (trained && sq.trained.size() != ranges) {
    return w.Fail(at, "SQ type " + Str(sq.qtype) + " holds " + Str(sq.trained.size()) +
                          " trained values, needs " + Str(ranges));
  }
  return true;
}

namespace {

bool CheckFastScan(Walk& w, const faiss::IndexPQFastScan& fs, const std::string& at) {
  if (!CheckPq(w, fs.pq, static_cast<size_t>(fs.d), at)) return false;
  const size_t n = static_cast<size_t>(fs.ntotal);
  const size_t bbs = fs.bbs > 0 ? static_cast<size_t>(fs.bbs) : 0;
  size_t bytes = 0;
  if (bbs == 0 || fs.M != fs.pq.M || fs.M2 != (fs.M + 1) / 2 * 2 ||
      fs.ntotal2 != (n + bbs - 1) / bbs * bbs || !Times(fs.ntotal2, fs.M2 / 2, &bytes) ||
      fs.codes.size() != bytes) {
    return w.Fail(at, "PQ fast-scan holds " + Str(fs.codes.size()) + " code bytes for ntotal " +
                          Str(n) + " (ntotal2 " + Str(fs.ntotal2) + ", M2 " + Str(fs.M2) +
                          ", bbs " + Str(fs.bbs) + ")");
  }
  w.Note(at, "IndexPQFastScan: " + Str(n) + " codes in blocks of " + Str(bbs));
  return true;
}

// The code size the class derives from d and its quantizer, or 0 when it has no rule here.
bool ExpectedCodeSize(Walk& w, const faiss::IndexFlatCodes& ix, size_t* want,
                      const std::string& at) {
  const size_t d = static_cast<size_t>(ix.d);
  *want = 0;
  if (dynamic_cast<const faiss::IndexFlat*>(&ix) != nullptr) {
    *want = d * sizeof(float);
  } else if (auto* pq = dynamic_cast<const faiss::IndexPQ*>(&ix)) {
    if (!CheckPq(w, pq->pq, d, at)) return false;
    *want = pq->pq.code_size;
  } else if (auto* sq = dynamic_cast<const faiss::IndexScalarQuantizer*>(&ix)) {
    if (!CheckSq(w, sq->sq, d, ix.is_trained, at)) return false;
    *want = sq->sq.code_size;
  } else if (auto* lsh = dynamic_cast<const faiss::IndexLSH*>(&ix)) {
    *want = lsh->nbits > 0 ? (static_cast<size_t>(lsh->nbits) + 7) / 8 : 0;
  } else if (auto* two = dynamic_cast<const faiss::Index2Layer*>(&ix)) {
    if (!CheckPq(w, two->pq, d, at)) return false;
    *want = two->code_size_1 + two->code_size_2;
  }
  return true;
}

}  // namespace

bool WalkCodes(Walk& w, const faiss::Index* index, const std::string& at, bool* handled) {
  *handled = true;
  if (auto* fs = dynamic_cast<const faiss::IndexPQFastScan*>(index))
    return CheckFastScan(w, *fs, at);
  auto* ix = dynamic_cast<const faiss::IndexFlatCodes*>(index);
  if (ix == nullptr) {
    *handled = false;
    return true;
  }
  const std::string name = Demangle(typeid(*ix));
  size_t want = 0;
  if (!ExpectedCodeSize(w, *ix, &want, at)) return false;
  if (ix->code_size == 0 || (want != 0 && ix->code_size != want)) {
    return w.Fail(at, name + " code_size " + Str(ix->code_size) + ", needs " + Str(want));
  }
  size_t bytes = 0;
  if (!Times(static_cast<size_t>(ix->ntotal), ix->code_size, &bytes) || ix->codes.size() != bytes) {
    return w.Fail(at, name + " holds " + Str(ix->codes.size()) + " code bytes for " +
                          Str(ix->ntotal) + " x " + Str(ix->code_size));
  }
  w.Note(at, name + ": " + Str(ix->ntotal) + " codes x " + Str(ix->code_size) + " B");
  return true;
}

}  // namespace indexctl::structure
