// Turning FAISS and C++ exceptions into JS errors that keep FAISS's own message.
#pragma once

#include <napi.h>

#include <string>

namespace indexctl {

// Registered once per environment from TypeScript (better-sqlite3 style) so native code throws the
// real class; kept in that environment's AddonData.
void SetErrorClass(const Napi::CallbackInfo& info);

// A JS FaissError (or a plain Error before registration) carrying `message`.
Napi::Error MakeFaissError(Napi::Env env, const std::string& message);

// A caught C++ exception, kept as plain data so a worker thread can carry it to the main thread.
struct CaughtError {
  // std::bad_alloc: memory ran out, which is no fault of FAISS or of the index.
  bool out_of_memory = false;
  std::string message;
};

// The exception currently being handled (call inside a catch block).
CaughtError CurrentException();

// RangeError "out of memory: ..." for std::bad_alloc, a FaissError for everything else.
Napi::Error ToJsError(Napi::Env env, const CaughtError& caught);

// Runs `body`, converting faiss::FaissException and std::exception into a thrown JS error.
template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body());

// Message of the exception currently being handled (call inside a catch block).
std::string CurrentExceptionMessage();

}  // namespace indexctl

#include "errors_inl.h"
