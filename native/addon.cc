// Module entry: the NativeIndex class plus module-level functions (read, threads, build facts).
#include <faiss/Index.h>
#include <faiss/index_io.h>
#include <napi.h>

#include "errors.h"
#include "index.h"
#include "threads.h"

// Written by scripts/build-native.js from scripts/faiss-config.js: which FAISS this addon links.
#if __has_include("faiss_config.h")
#include "faiss_config.h"
#endif

#ifndef INDEXCTL_FAISS_SIMD
#define INDEXCTL_FAISS_SIMD "generic"
#endif
#ifndef INDEXCTL_FAISS_SOURCE
#define INDEXCTL_FAISS_SOURCE "system libfaiss"
#endif

namespace indexctl {

namespace {

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  SetThreads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), GetThreads());
}

Napi::Object BuildInfo(Napi::Env env) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("faissVersion", std::to_string(FAISS_VERSION_MAJOR) + "." +
                              std::to_string(FAISS_VERSION_MINOR) + "." +
                              std::to_string(FAISS_VERSION_PATCH));
  out.Set("simd", INDEXCTL_FAISS_SIMD);
  out.Set("source", INDEXCTL_FAISS_SOURCE);
  Napi::Object flags = Napi::Object::New(env);
  flags.Set("READ_ONLY", faiss::IO_FLAG_READ_ONLY);
  flags.Set("ONDISK_SAME_DIR", faiss::IO_FLAG_ONDISK_SAME_DIR);
  flags.Set("SKIP_IVF_DATA", faiss::IO_FLAG_SKIP_IVF_DATA);
  flags.Set("MMAP", faiss::IO_FLAG_MMAP);
  out.Set("ioFlags", flags);
  return out;
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  IndexWrap::Init(env, exports);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  exports.Set("readIndex", Napi::Function::New(env, ReadIndex));
  exports.Set("readIndexAsync", Napi::Function::New(env, ReadIndexAsync));
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("buildInfo", BuildInfo(env));
  return exports;
}

}  // namespace indexctl

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return indexctl::Init(env, exports);
}

NODE_API_MODULE(indexctl_faiss, InitAddon)
