// Async (Promise) versions of the long calls. Arguments are checked and referenced on the main
// thread (the typed arrays stay alive through a persistent reference: zero copy), Execute touches
// no N-API, and the promise is settled in OnOK/OnError (sharp's baton pattern). The busy flag makes
// a second call on the same index throw instead of racing; it is set only once the work is queued,
// after every argument check, so a bad argument cannot leave the index busy.
#include <faiss/index_io.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "args.h"
#include "errors.h"
#include "hashed_io.h"
#include "index.h"
#include "threads.h"

namespace indexctl {

namespace {

class Worker : public Napi::AsyncWorker {
 public:
  Worker(Napi::Env env, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)) {}

  Napi::Promise Queue() {
    Napi::AsyncWorker::Queue();
    // OnOK/OnError run on this (the main) thread, never before this call returns to JS.
    Queued();
    return deferred_.Promise();
  }

  // Keeps a JS value (typed array, the index object) alive until the call settles.
  void Hold(Napi::Value value) { held_.push_back(Napi::Persistent(value.As<Napi::Object>())); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  virtual void Queued() {}
  virtual void Settle() {}

  void Execute() override {
    try {
      ApplyThreadsOnWorker();
      Run();
    } catch (...) {
      caught_ = CurrentException();
      SetError(caught_.message);
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Settle();
    deferred_.Resolve(Result(env));
  }

  void OnError(const Napi::Error&) override {
    Napi::Env env = Env();
    Settle();
    deferred_.Reject(ToJsError(env, caught_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> held_;
  CaughtError caught_;
};

// A worker bound to one index: marks it busy once queued, idle when settled.
class IndexWorker : public Worker {
 public:
  IndexWorker(Napi::Env env, const char* name, IndexWrap* wrap, faiss::Index* index,
              Napi::Object self)
      : Worker(env, name), wrap_(wrap), index_(index) {
    Hold(self);
  }

 protected:
  void Queued() override { wrap_->SetBusy(true); }
  void Settle() override {
    wrap_->SetBusy(false);
    wrap_->AccountMemory(Env());
  }
  IndexWrap* wrap_;
  faiss::Index* index_;
};

class TrainWorker : public IndexWorker {
 public:
  TrainWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
              Napi::Float32Array x, int64_t n)
      : IndexWorker(env, "indexctl:train", wrap, index, self), x_(x.Data()), n_(n) {
    Hold(x);
  }
  void Run() override { index_->train(n_, x_); }

 private:
  const float* x_;
  int64_t n_;
};

class AddWorker : public IndexWorker {
 public:
  AddWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
            Napi::Float32Array x, Napi::BigInt64Array ids, int64_t n)
      : IndexWorker(env, "indexctl:addWithIds", wrap, index, self),
        x_(x.Data()),
        ids_(ids.Data()),
        n_(n) {
    Hold(x);
    Hold(ids);
  }
  void Run() override { index_->add_with_ids(n_, x_, ids_); }

 private:
  const float* x_;
  const int64_t* ids_;
  int64_t n_;
};

// FAISS writes the results straight into the typed arrays that the promise resolves with: they are
// allocated on the main thread before the work is queued (an ArrayBuffer's memory never moves).
class SearchWorker : public IndexWorker {
 public:
  SearchWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
               Napi::Float32Array q, int64_t nq, int64_t k, Napi::Float32Array distances,
               Napi::BigInt64Array labels)
      : IndexWorker(env, "indexctl:search", wrap, index, self),
        q_(q.Data()),
        nq_(nq),
        k_(k),
        distances_(distances.Data()),
        labels_(labels.Data()),
        out_(Napi::Persistent(Napi::Object::New(env))) {
    Hold(q);
    out_.Set("distances", distances);
    out_.Set("labels", labels);
  }
  void Run() override { index_->search(nq_, q_, k_, distances_, labels_); }
  Napi::Value Result(Napi::Env) override { return out_.Value(); }

 private:
  const float* q_;
  int64_t nq_;
  int64_t k_;
  float* distances_;
  faiss::Index::idx_t* labels_;
  Napi::ObjectReference out_;
};

class WriteWorker : public IndexWorker {
 public:
  WriteWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
              std::string path)
      : IndexWorker(env, "indexctl:write", wrap, index, self), path_(std::move(path)) {}
  void Run() override { faiss::write_index(index_, path_.c_str()); }

 private:
  std::string path_;
};

#ifdef INDEXCTL_HASHED_IO
Napi::Value DigestValue(Napi::Env env, const FileDigest& d) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("bytes", Napi::Number::New(env, static_cast<double>(d.bytes)));
  out.Set("xxh64", Napi::BigInt::New(env, d.xxh64));
  return out;
}

class WriteHashedWorker : public IndexWorker {
 public:
  WriteHashedWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
                    std::string path)
      : IndexWorker(env, "indexctl:writeHashed", wrap, index, self), path_(std::move(path)) {}
  void Run() override { digest_ = WriteIndexHashed(index_, path_); }
  Napi::Value Result(Napi::Env env) override { return DigestValue(env, digest_); }

 private:
  std::string path_;
  FileDigest digest_{};
};

class CopyHashedWorker : public Worker {
 public:
  CopyHashedWorker(Napi::Env env, std::string from, std::string to, file_io::Control control)
      : Worker(env, "indexctl:copyHashed"),
        from_(std::move(from)),
        to_(std::move(to)),
        control_(control) {}
  void Run() override { digest_ = CopyFileHashed(from_, to_, control_); }
  Napi::Value Result(Napi::Env env) override { return DigestValue(env, digest_); }

 private:
  std::string from_;
  std::string to_;
  file_io::Control control_;
  FileDigest digest_{};
};
#endif

class ReadWorker : public Worker {
 public:
  ReadWorker(Napi::Env env, std::string path, int flags)
      : Worker(env, "indexctl:read"), path_(std::move(path)), flags_(flags) {}
  void Run() override { index_.reset(faiss::read_index(path_.c_str(), flags_)); }
  Napi::Value Result(Napi::Env env) override {
    return IndexWrap::NewInstance(env, index_.release());
  }

 private:
  std::string path_;
  int flags_;
  std::unique_ptr<faiss::Index> index_;
};

}  // namespace

// Each method checks every argument before it creates its worker: nothing below can throw
// between `new` and Queue(), so no worker leaks and the index is marked busy only when queued.

Napi::Value IndexWrap::TrainAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "train vectors");
  int64_t n = CountVectors(env, x, index->d, "train vectors");
  return (new TrainWorker(env, this, index, info.This().As<Napi::Object>(), x, n))->Queue();
}

Napi::Value IndexWrap::AddWithIdsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = Float32ArrayArg(info, 0, "vectors");
  int64_t n = CountVectors(env, x, index->d, "vectors");
  auto ids = IdsArg(info, 1, n);
  return (new AddWorker(env, this, index, info.This().As<Napi::Object>(), x, ids, n))->Queue();
}

Napi::Value IndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto q = Float32ArrayArg(info, 0, "queries");
  int64_t nq = CountVectors(env, q, index->d, "queries");
  int64_t k = KArg(info, 1);
  // Allocated before the worker exists (V8 throws a RangeError for an impossible length).
  auto distances = Napi::Float32Array::New(env, nq * k);
  auto labels = Napi::BigInt64Array::New(env, nq * k);
  return (new SearchWorker(env, this, index, info.This().As<Napi::Object>(), q, nq, k, distances,
                           labels))
      ->Queue();
}

Napi::Value IndexWrap::WriteAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  std::string path = StringArg(info, 0, "path");
  return (new WriteWorker(env, this, index, info.This().As<Napi::Object>(), std::move(path)))
      ->Queue();
}

#ifdef INDEXCTL_HASHED_IO
// writeHashedAsync(path) -> {bytes, xxh64}: write_index into a new file, hashed as written, synced.
Napi::Value IndexWrap::WriteHashedAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  std::string path = StringArg(info, 0, "path");
  return (new WriteHashedWorker(env, this, index, info.This().As<Napi::Object>(), std::move(path)))
      ->Queue();
}

// copyFileHashedAsync(from, to[, control]) -> {bytes, xxh64}: a new file `to` with `from`'s bytes,
// synced. `control`, a BigInt64Array(2) the caller keeps: a non-zero [0] stops the copy before its
// next block (rejects "cancelled"), [1] is the bytes copied so far.
Napi::Value CopyFileHashedAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string from = StringArg(info, 0, "from");
  std::string to = StringArg(info, 1, "to");
  file_io::Control control;
  Napi::Value held;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    if (!info[2].IsTypedArray() ||
        info[2].As<Napi::TypedArray>().TypedArrayType() != napi_bigint64_array ||
        info[2].As<Napi::TypedArray>().ElementLength() < 2) {
      throw Napi::TypeError::New(env, "copyFileHashedAsync: control must be a BigInt64Array(2)");
    }
    int64_t* data = info[2].As<Napi::BigInt64Array>().Data();
    control = {data, data + 1};
    held = info[2];
  }
  auto* worker = new CopyHashedWorker(env, std::move(from), std::move(to), control);
  if (!held.IsEmpty()) worker->Hold(held);
  return worker->Queue();
}
#endif

Napi::Value ReadIndexAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "path");
  int flags = static_cast<int>(IntArg(info, 1, "ioFlags", 0, INT32_MAX));
  return (new ReadWorker(env, std::move(path), flags))->Queue();
}

}  // namespace indexctl
