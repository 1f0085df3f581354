// The checksum addon, indexctl_hash.node: XXH64 of whole files on libuv's thread pool, one file per
// call, several at once. It links nothing but libxxhash (header-only) so that verify's level 1,
// which only hashes files, loads it instead of FAISS (src/core/hash-addon.ts); without it verify
// hashes through xxhash-wasm on worker threads. It also carries the exit guard (exit_guard.cc),
// which the CLI arms at start-up: light enough to load in every command.
//
//   hashFileAsync(path, control) -> Promise<{bytes, xxh64}>
//
// `control` is a BigInt64Array of 2 that the caller keeps: a non-zero control[0] stops the hash
// before its next 1 MiB block (the promise rejects with "cancelled"); control[1] is the bytes
// hashed so far. A failure rejects with "cannot open|read PATH: strerror" and `errno` set.
#include <napi.h>

#include <string>
#include <system_error>

#include "exit_guard.h"

#if __has_include(<xxhash.h>)
#define INDEXCTL_HASH_ADDON 1
#include "file_io.h"
#endif

namespace indexctl {
namespace {

#ifdef INDEXCTL_HASH_ADDON

// 1 MiB reads: a block stays in L2 between the kernel's copy and the hash (bench/checksum.ts).
constexpr size_t kHashBlock = 1 << 20;

class HashFileWorker : public Napi::AsyncWorker {
 public:
  HashFileWorker(Napi::Env env, std::string path, Napi::BigInt64Array control)
      : Napi::AsyncWorker(env, "indexctl:hashFile"),
        deferred_(Napi::Promise::Deferred::New(env)),
        path_(std::move(path)),
        control_ref_(Napi::Persistent(control.As<Napi::Object>())),
        control_(control.Data()) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

  void Execute() override {
    try {
      // O_NONBLOCK: a FIFO put in a file's place after verify's stat must not block a pool thread
      // (it reads as empty, a size mismatch); it changes nothing for a regular file.
      file_io::Fd in(path_, O_RDONLY | O_NONBLOCK);
      ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
      digest_ = file_io::HashThrough(in, nullptr, kHashBlock, {control_, control_ + 1});
    } catch (const file_io::Cancelled& e) {
      error_ = 0;
      SetError(e.what());
    } catch (const std::system_error& e) {
      error_ = e.code().value();
      SetError(e.what());
    } catch (const std::exception& e) {
      SetError(e.what());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    auto result = Napi::Object::New(env);
    result.Set("bytes", Napi::Number::New(env, static_cast<double>(digest_.bytes)));
    result.Set("xxh64", Napi::BigInt::New(env, digest_.xxh64));
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override {
    if (error_ != 0) error.Set("errno", Napi::Number::New(Env(), error_));
    deferred_.Reject(error.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  Napi::ObjectReference control_ref_;
  int64_t* control_;
  FileDigest digest_{};
  int error_ = 0;
};

Napi::Value HashFileAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsTypedArray() ||
      info[1].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array ||
      info[1].As<Napi::TypedArray>().ElementLength() < 2) {
    throw Napi::TypeError::New(env, "hashFileAsync(path: string, control: BigInt64Array(2))");
  }
  auto* worker =
      new HashFileWorker(env, info[0].As<Napi::String>(), info[1].As<Napi::BigInt64Array>());
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

#endif

}  // namespace
}  // namespace indexctl

// Without libxxhash-dev the module loads with the exit guard only: verify falls back to
// xxhash-wasm.
static Napi::Object InitHashAddon(Napi::Env env, Napi::Object exports) {
  indexctl::ExportExitGuard(env, exports);
#ifdef INDEXCTL_HASH_ADDON
  exports.Set("hashFileAsync", Napi::Function::New(env, indexctl::HashFileAsync));
#endif
  return exports;
}

NODE_API_MODULE(indexctl_hash, InitHashAddon)
