// Async (Promise) versions of the long calls. Arguments are referenced on the main thread (the
// typed arrays stay alive through a persistent reference: zero copy), Execute touches no N-API, and
// the promise is settled in OnOK/OnError (sharp's baton pattern). The busy flag makes a second call
// on the same index throw instead of racing.
#include <faiss/index_io.h>

#include <functional>
#include <memory>
#include <vector>

#include "errors.h"
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
    return deferred_.Promise();
  }

  // Keeps a JS value (typed array, the index object) alive until the call settles.
  void Hold(Napi::Value value) { held_.push_back(Napi::Persistent(value.As<Napi::Object>())); }

 protected:
  virtual void Run() = 0;
  virtual Napi::Value Result(Napi::Env env) { return env.Undefined(); }
  virtual void Settle() {}

  void Execute() override {
    try {
      ApplyThreadsOnWorker();
      Run();
    } catch (...) {
      SetError(CurrentExceptionMessage());
    }
  }

  void OnOK() override {
    Napi::Env env = Env();
    Settle();
    deferred_.Resolve(Result(env));
  }

  void OnError(const Napi::Error& error) override {
    Napi::Env env = Env();
    Settle();
    deferred_.Reject(MakeFaissError(env, error.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::vector<Napi::ObjectReference> held_;
};

// A worker bound to one index: marks it busy while queued, idle when settled.
class IndexWorker : public Worker {
 public:
  IndexWorker(Napi::Env env, const char* name, IndexWrap* wrap, faiss::Index* index,
              Napi::Object self)
      : Worker(env, name), wrap_(wrap), index_(index) {
    Hold(self);
    wrap_->SetBusy(true);
  }

 protected:
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
              Napi::Float32Array x)
      : IndexWorker(env, "indexctl:train", wrap, index, self),
        x_(x.Data()),
        n_(CountVectors(env, x, index->d, "train vectors")) {
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
            Napi::Float32Array x, Napi::BigInt64Array ids)
      : IndexWorker(env, "indexctl:addWithIds", wrap, index, self),
        x_(x.Data()),
        ids_(ids.Data()),
        n_(CountVectors(env, x, index->d, "vectors")) {
    Hold(x);
    Hold(ids);
  }
  void Run() override { index_->add_with_ids(n_, x_, ids_); }

 private:
  const float* x_;
  const int64_t* ids_;
  int64_t n_;
};

class SearchWorker : public IndexWorker {
 public:
  SearchWorker(Napi::Env env, IndexWrap* wrap, faiss::Index* index, Napi::Object self,
               Napi::Float32Array q, int64_t k)
      : IndexWorker(env, "indexctl:search", wrap, index, self),
        q_(q.Data()),
        nq_(CountVectors(env, q, index->d, "queries")),
        k_(k) {
    Hold(q);
  }
  void Run() override {
    distances_.resize(nq_ * k_);
    labels_.resize(nq_ * k_);
    index_->search(nq_, q_, k_, distances_.data(), labels_.data());
  }
  Napi::Value Result(Napi::Env env) override {
    auto distances = Napi::Float32Array::New(env, distances_.size());
    auto labels = Napi::BigInt64Array::New(env, labels_.size());
    std::copy(distances_.begin(), distances_.end(), distances.Data());
    std::copy(labels_.begin(), labels_.end(), labels.Data());
    Napi::Object out = Napi::Object::New(env);
    out.Set("distances", distances);
    out.Set("labels", labels);
    return out;
  }

 private:
  const float* q_;
  int64_t nq_;
  int64_t k_;
  std::vector<float> distances_;
  std::vector<faiss::Index::idx_t> labels_;
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

Napi::Value IndexWrap::TrainAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto* worker = new TrainWorker(env, this, index, info.This().As<Napi::Object>(),
                                 info[0].As<Napi::Float32Array>());
  return worker->Queue();
}

Napi::Value IndexWrap::AddWithIdsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto x = info[0].As<Napi::Float32Array>();
  auto ids = info[1].As<Napi::BigInt64Array>();
  if (ids.ElementLength() * static_cast<size_t>(index->d) != x.ElementLength()) {
    throw Napi::TypeError::New(env, "ids length does not match the number of vectors");
  }
  CheckIds(env, ids);
  auto* worker = new AddWorker(env, this, index, info.This().As<Napi::Object>(), x, ids);
  return worker->Queue();
}

Napi::Value IndexWrap::SearchAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto* worker =
      new SearchWorker(env, this, index, info.This().As<Napi::Object>(),
                       info[0].As<Napi::Float32Array>(), info[1].As<Napi::Number>().Int64Value());
  return worker->Queue();
}

Napi::Value IndexWrap::WriteAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  auto* worker = new WriteWorker(env, this, index, info.This().As<Napi::Object>(),
                                 info[0].As<Napi::String>().Utf8Value());
  return worker->Queue();
}

Napi::Value ReadIndexAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto* worker = new ReadWorker(env, info[0].As<Napi::String>().Utf8Value(),
                                info[1].As<Napi::Number>().Int32Value());
  return worker->Queue();
}

}  // namespace indexctl
