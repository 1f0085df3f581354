#include "index.h"

#include <cxxabi.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_factory.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <typeinfo>
#include <vector>

#include "addon_data.h"
#include "args.h"
#include "errors.h"

namespace indexctl {

std::string Demangle(const std::type_info& type) {
  int status = 0;
  char* name = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && name != nullptr ? name : type.name();
  std::free(name);
  const std::string ns = "faiss::";
  for (size_t at = out.find(ns); at != std::string::npos; at = out.find(ns))
    out.erase(at, ns.size());
  return out;
}

namespace {

faiss::IndexIDMap* AsIdMap(faiss::Index* index) { return dynamic_cast<faiss::IndexIDMap*>(index); }

}  // namespace

std::string ClassName(const faiss::Index* index) {
  if (auto* m2 = dynamic_cast<const faiss::IndexIDMap2*>(index)) {
    return "IndexIDMap2<" + ClassName(m2->index) + ">";
  }
  if (auto* m = dynamic_cast<const faiss::IndexIDMap*>(index)) {
    return "IndexIDMap<" + ClassName(m->index) + ">";
  }
  if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    return "IndexPreTransform<" + ClassName(pt->index) + ">";
  }
  if (auto* rf = dynamic_cast<const faiss::IndexRefine*>(index)) {
    return Demangle(typeid(*index)) + "<" + ClassName(rf->base_index) + ">";
  }
  return Demangle(typeid(*index));
}

const char* MetricName(faiss::MetricType metric) {
  switch (metric) {
    case faiss::METRIC_L2:
      return "l2";
    case faiss::METRIC_INNER_PRODUCT:
      return "ip";
    default:
      return "other";
  }
}

int64_t CountVectors(Napi::Env env, const Napi::Float32Array& x, int d, const char* what) {
  size_t len = x.ElementLength();
  if (d <= 0 || len % static_cast<size_t>(d) != 0) {
    throw Napi::TypeError::New(env, std::string(what) + ": length " + std::to_string(len) +
                                        " is not a multiple of d=" + std::to_string(d));
  }
  return static_cast<int64_t>(len / static_cast<size_t>(d));
}

Napi::BigInt64Array IdsArg(const Napi::CallbackInfo& info, size_t i, int64_t n) {
  Napi::Env env = info.Env();
  Napi::BigInt64Array ids = BigInt64ArrayArg(info, i, "ids");
  if (ids.ElementLength() != static_cast<size_t>(n)) {
    throw Napi::TypeError::New(env, "ids: " + std::to_string(ids.ElementLength()) + " ids for " +
                                        std::to_string(n) + " vectors");
  }
  const int64_t* p = ids.Data();
  for (size_t i = 0; i < ids.ElementLength(); i++) {
    if (p[i] < 0) {
      throw Napi::RangeError::New(env, "ids[" + std::to_string(i) + "] = " + std::to_string(p[i]) +
                                           ": ids must be >= 0 (FAISS uses -1 for 'no result')");
    }
  }
  return ids;
}

int64_t KArg(const Napi::CallbackInfo& info, size_t i) {
  return IntArg(info, i, "k", 1, int64_t{1} << 20);  // MAX_K in src/core/faiss/index.ts
}

Napi::Object IndexWrap::Init(Napi::Env env, Napi::Object exports) {
  std::vector<Napi::ClassPropertyDescriptor<IndexWrap>> methods = {
      StaticMethod<&IndexWrap::FromFactoryStatic>("fromFactory"),
      InstanceMethod<&IndexWrap::WrapIdMap2>("wrapIdMap2"),
      InstanceMethod<&IndexWrap::Train>("train"),
      InstanceMethod<&IndexWrap::Add>("add"),
      InstanceMethod<&IndexWrap::AddWithIds>("addWithIds"),
      InstanceMethod<&IndexWrap::Search>("search"),
      InstanceMethod<&IndexWrap::Reconstruct>("reconstruct"),
      InstanceMethod<&IndexWrap::RemoveIds>("removeIds"),
      InstanceMethod<&IndexWrap::CoarseDistances>("coarseDistances"),
      InstanceMethod<&IndexWrap::CheckConsistency>("checkConsistency"),
      InstanceMethod<&IndexWrap::IdMap>("idMap"),
      InstanceMethod<&IndexWrap::Info>("info"),
      InstanceMethod<&IndexWrap::Dispose>("dispose"),
      InstanceMethod<&IndexWrap::ReserveVectors>("reserve"),
      InstanceMethod<&IndexWrap::SetParameters>("setParameters"),
      InstanceMethod<&IndexWrap::GetParameters>("getParameters"),
      InstanceMethod<&IndexWrap::ParameterRanges>("parameterRanges"),
      InstanceMethod<&IndexWrap::Write>("write"),
      InstanceMethod<&IndexWrap::ToBuffer>("toBuffer"),
      InstanceMethod<&IndexWrap::TrainAsync>("trainAsync"),
      InstanceMethod<&IndexWrap::AddWithIdsAsync>("addWithIdsAsync"),
      InstanceMethod<&IndexWrap::SearchAsync>("searchAsync"),
      InstanceMethod<&IndexWrap::WriteAsync>("writeAsync"),
      InstanceMethod<&IndexWrap::CheckStructure>("checkStructure"),
      InstanceMethod<&IndexWrap::MergeFrom>("mergeFrom"),
  };
#if __has_include(<xxhash.h>)
  methods.push_back(InstanceMethod<&IndexWrap::WriteHashedAsync>("writeHashedAsync"));
#endif
  Napi::Function cls = DefineClass(env, "NativeIndex", methods);
  AddonData::Of(env).index_class = Napi::Persistent(cls);
  exports.Set("NativeIndex", cls);
  return exports;
}

Napi::Object IndexWrap::NewInstance(Napi::Env env, faiss::Index* index) {
  return AddonData::Of(env).index_class.New({Napi::External<faiss::Index>::New(env, index)});
}

// new NativeIndex(External<faiss::Index>) takes ownership; JS code uses NativeIndex.fromFactory.
IndexWrap::IndexWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<IndexWrap>(info) {
  if (info.Length() == 1 && info[0].IsExternal()) {
    index_.reset(info[0].As<Napi::External<faiss::Index>>().Data());
    AccountMemory(info.Env());
    return;
  }
  throw Napi::TypeError::New(info.Env(), "use FaissIndex.fromFactory or FaissIndex.read");
}

IndexWrap::~IndexWrap() = default;

Napi::Value IndexWrap::FromFactoryStatic(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int d = static_cast<int>(IntArg(info, 0, "d", 1, 1 << 16));
  std::string description = StringArg(info, 1, "description");
  std::string metric = StringArg(info, 2, "metric");
  if (metric != "l2" && metric != "ip") {
    throw Napi::TypeError::New(env, "metric must be 'l2' or 'ip', got '" + metric + "'");
  }
  faiss::MetricType mt = metric == "ip" ? faiss::METRIC_INNER_PRODUCT : faiss::METRIC_L2;
  faiss::Index* index =
      Guard(env, [&] { return faiss::index_factory(d, description.c_str(), mt); });
  return NewInstance(env, index);
}

faiss::Index* IndexWrap::Require(Napi::Env env) {
  if (!index_) throw MakeFaissError(env, "this FaissIndex has been disposed");
  return index_.get();
}

faiss::Index* IndexWrap::RequireIdle(Napi::Env env) {
  faiss::Index* index = Require(env);
  if (busy_) {
    throw MakeFaissError(env, "FaissIndex is busy: an async call on it has not finished yet");
  }
  return index;
}

// Tells V8 roughly how much native memory this object holds, so GC pressure reflects it.
void IndexWrap::AccountMemory(Napi::Env env) {
  int64_t bytes = 0;
  // A hint only (codes vary from 4 bytes to a few bits per dimension): one byte per dimension.
  if (index_) bytes = static_cast<int64_t>(index_->ntotal) * index_->d;
  if (bytes != accounted_bytes_) {
    Napi::MemoryManagement::AdjustExternalMemory(env, bytes - accounted_bytes_);
    accounted_bytes_ = bytes;
  }
}

Napi::Value IndexWrap::WrapIdMap2(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  if (AsIdMap(index) != nullptr) {
    throw MakeFaissError(env, "index is already wrapped in " + ClassName(index));
  }
  if (index->ntotal != 0) {
    throw MakeFaissError(env, "wrapIdMap2 needs an empty index, this one holds " +
                                  std::to_string(index->ntotal) + " vectors");
  }
  auto* wrapped = new faiss::IndexIDMap2(index_.release());
  wrapped->own_fields = true;
  index_.reset(wrapped);
  return info.This();
}

Napi::Value IndexWrap::Train(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "train vectors");
  int64_t n = CountVectors(env, x, index->d, "train vectors");
  Guard(env, [&] { index->train(n, x.Data()); });
  return env.Undefined();
}

Napi::Value IndexWrap::Add(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "vectors");
  int64_t n = CountVectors(env, x, index->d, "vectors");
  Guard(env, [&] { index->add(n, x.Data()); });
  AccountMemory(env);
  return env.Undefined();
}

Napi::Value IndexWrap::AddWithIds(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "vectors");
  int64_t n = CountVectors(env, x, index->d, "vectors");
  auto ids = IdsArg(info, 1, n);
  Guard(env, [&] { index->add_with_ids(n, x.Data(), ids.Data()); });
  AccountMemory(env);
  return env.Undefined();
}

Napi::Value IndexWrap::Search(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto q = Float32ArrayArg(info, 0, "queries");
  int64_t nq = CountVectors(env, q, index->d, "queries");
  int64_t k = KArg(info, 1);
  auto distances = Napi::Float32Array::New(env, nq * k);
  auto labels = Napi::BigInt64Array::New(env, nq * k);
  Guard(env, [&] { index->search(nq, q.Data(), k, distances.Data(), labels.Data()); });
  Napi::Object out = Napi::Object::New(env);
  out.Set("distances", distances);
  out.Set("labels", labels);
  return out;
}

Napi::Value IndexWrap::Reconstruct(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  int64_t key = BigIntArg(info, 0, "id");
  auto out = Napi::Float32Array::New(env, index->d);
  Guard(env, [&] { index->reconstruct(key, out.Data()); });
  return out;
}

Napi::Value IndexWrap::CheckConsistency(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto* map2 = dynamic_cast<faiss::IndexIDMap2*>(index);
  if (map2 == nullptr) {
    throw MakeFaissError(env, "checkConsistency needs an IndexIDMap2, this is " + ClassName(index));
  }
  Guard(env, [&] { map2->check_consistency(); });
  return Napi::Boolean::New(env, true);
}

// Row -> external id, in row order, copied with one memcpy.
Napi::Value IndexWrap::IdMap(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto* map = AsIdMap(index);
  if (map == nullptr) {
    throw MakeFaissError(env, "idMap needs an IndexIDMap/IndexIDMap2, this is " + ClassName(index));
  }
  auto out = Napi::BigInt64Array::New(env, map->id_map.size());
  if (!map->id_map.empty()) {
    std::memcpy(out.Data(), map->id_map.data(), map->id_map.size() * sizeof(int64_t));
  }
  return out;
}

Napi::Value IndexWrap::Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = Require(env);
  Napi::Object out = Napi::Object::New(env);
  out.Set("d", Napi::Number::New(env, index->d));
  out.Set("ntotal", Napi::Number::New(env, static_cast<double>(index->ntotal)));
  out.Set("isTrained", Napi::Boolean::New(env, index->is_trained));
  out.Set("metric", Napi::String::New(env, MetricName(index->metric_type)));
  out.Set("className", Napi::String::New(env, ClassName(index)));
  out.Set("busy", Napi::Boolean::New(env, busy_));
  return out;
}

Napi::Value IndexWrap::Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  RequireIdle(env);
  index_.reset();
  AccountMemory(env);
  return env.Undefined();
}

}  // namespace indexctl
