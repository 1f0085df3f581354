// FaissIndex: an owning handle on a faiss::Index, exposed to JS through Napi::ObjectWrap.
// Argument types and sizes are validated in TypeScript; the guards here (args.h) are a second line
// for callers of the native object itself.
#pragma once

#include <faiss/Index.h>
#include <napi.h>

#include <memory>
#include <string>
#include <typeinfo>

namespace indexctl {

class IndexWrap : public Napi::ObjectWrap<IndexWrap> {
 public:
  static Napi::Object Init(Napi::Env env, Napi::Object exports);
  // Wraps an index created on a worker thread (read, fromBuffer) in a new JS object.
  static Napi::Object NewInstance(Napi::Env env, faiss::Index* index);

  explicit IndexWrap(const Napi::CallbackInfo& info);
  ~IndexWrap() override;

  // The index, or a JS error if it was disposed. Throws if an async call is running.
  faiss::Index* Require(Napi::Env env);
  faiss::Index* RequireIdle(Napi::Env env);
  void SetBusy(bool busy) { busy_ = busy; }
  void AccountMemory(Napi::Env env);

 private:
  // index.cc
  static Napi::Value FromFactoryStatic(const Napi::CallbackInfo& info);
  Napi::Value WrapIdMap2(const Napi::CallbackInfo& info);
  Napi::Value Train(const Napi::CallbackInfo& info);
  Napi::Value Add(const Napi::CallbackInfo& info);
  Napi::Value AddWithIds(const Napi::CallbackInfo& info);
  Napi::Value Search(const Napi::CallbackInfo& info);
  Napi::Value Reconstruct(const Napi::CallbackInfo& info);
  Napi::Value RemoveIds(const Napi::CallbackInfo& info);
  Napi::Value CheckConsistency(const Napi::CallbackInfo& info);
  Napi::Value IdMap(const Napi::CallbackInfo& info);
  Napi::Value Info(const Napi::CallbackInfo& info);
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  // reserve.cc
  Napi::Value ReserveVectors(const Napi::CallbackInfo& info);
  // params.cc
  Napi::Value SetParameters(const Napi::CallbackInfo& info);
  Napi::Value GetParameters(const Napi::CallbackInfo& info);
  Napi::Value ParameterRanges(const Napi::CallbackInfo& info);
  // io.cc
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value ToBuffer(const Napi::CallbackInfo& info);
  // workers.cc
  Napi::Value TrainAsync(const Napi::CallbackInfo& info);
  Napi::Value AddWithIdsAsync(const Napi::CallbackInfo& info);
  Napi::Value SearchAsync(const Napi::CallbackInfo& info);
  Napi::Value WriteAsync(const Napi::CallbackInfo& info);
#if __has_include(<xxhash.h>)
  Napi::Value WriteHashedAsync(const Napi::CallbackInfo& info);
#endif
  // structure.cc
  Napi::Value CheckStructure(const Napi::CallbackInfo& info);
  // remove.cc
  Napi::Value CoarseDistances(const Napi::CallbackInfo& info);
  // merge.cc
  Napi::Value MergeFrom(const Napi::CallbackInfo& info);

  std::unique_ptr<faiss::Index> index_;
  bool busy_ = false;
  int64_t accounted_bytes_ = 0;
};

// Shared helpers for the method files.
std::string ClassName(const faiss::Index* index);
// A type's name without the faiss:: prefixes ("IndexHNSWFlat").
std::string Demangle(const std::type_info& type);
const char* MetricName(faiss::MetricType metric);
// Number of vectors in a typed array of n * d floats; throws a TypeError when the size is wrong.
int64_t CountVectors(Napi::Env env, const Napi::Float32Array& x, int d, const char* what);
// Argument `i`: a BigInt64Array of `n` ids, each >= 0 (FAISS uses -1 for "no result").
Napi::BigInt64Array IdsArg(const Napi::CallbackInfo& info, size_t i, int64_t n);
// Argument `i`: the k of a search, as the TypeScript side allows it.
int64_t KArg(const Napi::CallbackInfo& info, size_t i);

// Module-level functions (io.cc, addon.cc).
Napi::Value ReadIndex(const Napi::CallbackInfo& info);
Napi::Value ReadIndexAsync(const Napi::CallbackInfo& info);
#if __has_include(<xxhash.h>)
Napi::Value CopyFileHashedAsync(const Napi::CallbackInfo& info);
#endif
Napi::Value FromBuffer(const Napi::CallbackInfo& info);

}  // namespace indexctl
