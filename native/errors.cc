#include "errors.h"

#include <faiss/impl/FaissException.h>

#include <new>

#include "addon_data.h"

namespace indexctl {

void SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "setErrorClass expects a constructor");
  }
  AddonData::Of(info.Env()).error_class = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Error MakeFaissError(Napi::Env env, const std::string& message) {
  Napi::FunctionReference& cls = AddonData::Of(env).error_class;
  if (!cls.IsEmpty()) {
    Napi::Object err = cls.New({Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  return Napi::Error::New(env, message);
}

CaughtError CurrentException() {
  try {
    throw;
  } catch (const std::bad_alloc& e) {
    return {true, e.what()};
  } catch (...) {
    return {false, CurrentExceptionMessage()};
  }
}

Napi::Error ToJsError(Napi::Env env, const CaughtError& caught) {
  if (caught.out_of_memory) return Napi::RangeError::New(env, "out of memory: " + caught.message);
  return MakeFaissError(env, caught.message);
}

std::string CurrentExceptionMessage() {
  try {
    throw;
  } catch (const faiss::FaissException& e) {
    return e.what();
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "unknown C++ exception";
  }
}

}  // namespace indexctl
