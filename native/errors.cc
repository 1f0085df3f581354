#include "errors.h"

#include <faiss/impl/FaissException.h>

namespace indexctl {

namespace {
Napi::FunctionReference* g_error_class = nullptr;
}

void SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) {
    throw Napi::TypeError::New(info.Env(), "setErrorClass expects a constructor");
  }
  if (g_error_class == nullptr) g_error_class = new Napi::FunctionReference();
  *g_error_class = Napi::Persistent(info[0].As<Napi::Function>());
}

Napi::Error MakeFaissError(Napi::Env env, const std::string& message) {
  if (g_error_class != nullptr && !g_error_class->IsEmpty()) {
    Napi::Object err = g_error_class->New({Napi::String::New(env, message)});
    return Napi::Error(env, err);
  }
  return Napi::Error::New(env, message);
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
