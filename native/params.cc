// Search-time parameters through faiss::ParameterSpace, and the values actually stored in the
// index.
#include <faiss/AutoTune.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVF.h>
#include <faiss/IndexIVFPQ.h>
#include <faiss/IndexPreTransform.h>
#include <faiss/IndexRefine.h>

#include "args.h"
#include "errors.h"
#include "index.h"

namespace indexctl {

namespace {

// ParameterSpace::initialize does not look inside an IDMap wrapper: unwrap first.
const faiss::Index* InnerIndex(const faiss::Index* index) {
  while (auto* map = dynamic_cast<const faiss::IndexIDMap*>(index)) index = map->index;
  return index;
}

// Mirrors the names ParameterSpace::set_index_parameter understands.
void CollectParameters(const faiss::Index* index, const std::string& prefix, Napi::Object& out) {
  Napi::Env env = out.Env();
  auto set = [&](const std::string& name, double value) {
    out.Set(prefix + name, Napi::Number::New(env, value));
  };
  if (auto* map = dynamic_cast<const faiss::IndexIDMap*>(index)) {
    CollectParameters(map->index, prefix, out);
  } else if (auto* pt = dynamic_cast<const faiss::IndexPreTransform*>(index)) {
    CollectParameters(pt->index, prefix, out);
  } else if (auto* rf = dynamic_cast<const faiss::IndexRefine*>(index)) {
    set("k_factor_rf", rf->k_factor);
    CollectParameters(rf->base_index, prefix, out);
  } else if (auto* ivf = dynamic_cast<const faiss::IndexIVF*>(index)) {
    set("nprobe", static_cast<double>(ivf->nprobe));
    set("max_codes", static_cast<double>(ivf->max_codes));
    if (auto* ivfpq = dynamic_cast<const faiss::IndexIVFPQ*>(index))
      set("ht", ivfpq->polysemous_ht);
    if (prefix.empty()) CollectParameters(ivf->quantizer, "quantizer_", out);
  } else if (auto* hnsw = dynamic_cast<const faiss::IndexHNSW*>(index)) {
    set("efSearch", hnsw->hnsw.efSearch);
  }
}

}  // namespace

Napi::Value IndexWrap::SetParameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  std::string spec = StringArg(info, 0, "parameters");
  Guard(env, [&] {
    faiss::ParameterSpace space;
    space.set_index_parameters(index, spec.c_str());
  });
  return env.Undefined();
}

Napi::Value IndexWrap::GetParameters(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  Napi::Object out = Napi::Object::New(env);
  CollectParameters(index, "", out);
  return out;
}

Napi::Value IndexWrap::ParameterRanges(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  faiss::ParameterSpace space;
  Guard(env, [&] { space.initialize(InnerIndex(index)); });
  Napi::Array out = Napi::Array::New(env, space.parameter_ranges.size());
  for (size_t i = 0; i < space.parameter_ranges.size(); i++) {
    const faiss::ParameterRange& range = space.parameter_ranges[i];
    Napi::Array values = Napi::Array::New(env, range.values.size());
    for (size_t j = 0; j < range.values.size(); j++) values.Set(j, range.values[j]);
    Napi::Object item = Napi::Object::New(env);
    item.Set("name", range.name);
    item.Set("values", values);
    out.Set(i, item);
  }
  return out;
}

}  // namespace indexctl
