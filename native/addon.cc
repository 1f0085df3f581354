// Module entry: the NativeIndex class plus module-level functions (read, threads, build facts).
#include <faiss/Index.h>
#include <faiss/index_io.h>
#include <napi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "addon_data.h"
#include "args.h"
#include "errors.h"
#include "index.h"
#include "kernels.h"
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
  SetThreads(static_cast<int>(IntArg(info, 0, "threads", 1, 1024)));
  return info.Env().Undefined();
}

// A Float32Array over 2 MiB-aligned memory advised for transparent huge pages. Large vector arrays
// in such memory are copied into FAISS with far fewer TLB misses and page faults (numpy does the
// same for its large arrays, which is where Python's edge on a 1.5 GB Flat add came from).
Napi::Value AllocFloat32(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // 2^53 - 1: the largest integer a Number holds exactly.
  size_t length = static_cast<size_t>(IntArg(info, 0, "length", 0, (int64_t{1} << 53) - 1));
  size_t bytes = std::max<size_t>(length * sizeof(float), 1);
  constexpr size_t kHuge = 2u << 20;
  void* data = nullptr;
  if (posix_memalign(&data, bytes >= kHuge ? kHuge : 64, bytes) != 0) {
    throw Napi::RangeError::New(
        env, "out of memory: cannot allocate " + std::to_string(bytes) + " bytes");
  }
  if (bytes >= kHuge) madvise(data, bytes, MADV_HUGEPAGE);
  std::memset(data, 0, bytes);
  auto buffer = Napi::ArrayBuffer::New(env, data, bytes, [](Napi::Env, void* p) { std::free(p); });
  return Napi::Float32Array::New(env, length, buffer, 0);
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

AddonData& AddonData::Create(Napi::Env env) {
  auto* data = new AddonData();
  env.SetInstanceData<AddonData>(data);  // deleted by node-addon-api when the environment exits
  return *data;
}

AddonData& AddonData::Of(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Runs once per environment: the main thread and each worker_thread that loads the addon.
Napi::Object Init(Napi::Env env, Napi::Object exports) {
  AddonData::Create(env);
  IndexWrap::Init(env, exports);
  exports.Set("setErrorClass", Napi::Function::New(env, SetErrorClass));
  exports.Set("readIndex", Napi::Function::New(env, ReadIndex));
  exports.Set("readIndexAsync", Napi::Function::New(env, ReadIndexAsync));
  exports.Set("fromBuffer", Napi::Function::New(env, FromBuffer));
  exports.Set("setNumThreads", Napi::Function::New(env, SetNumThreads));
  exports.Set("getNumThreads", Napi::Function::New(env, GetNumThreads));
  exports.Set("allocFloat32", Napi::Function::New(env, AllocFloat32));
  exports.Set("nonFiniteRows", Napi::Function::New(env, NonFiniteRows));
#if __has_include(<xxhash.h>)
  exports.Set("hashRows", Napi::Function::New(env, HashRows));
  exports.Set("copyFileHashedAsync", Napi::Function::New(env, CopyFileHashedAsync));
#endif
  exports.Set("buildInfo", BuildInfo(env));
  return exports;
}

}  // namespace indexctl

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  return indexctl::Init(env, exports);
}

NODE_API_MODULE(indexctl_faiss, InitAddon)
