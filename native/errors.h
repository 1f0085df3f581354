// Turning FAISS and C++ exceptions into JS errors that keep FAISS's own message.
#pragma once

#include <napi.h>

#include <string>

namespace indexctl {

// Registered once from TypeScript (better-sqlite3 style) so native code throws the real class.
void SetErrorClass(const Napi::CallbackInfo& info);

// A JS FaissError (or a plain Error before registration) carrying `message`.
Napi::Error MakeFaissError(Napi::Env env, const std::string& message);

// Runs `body`, converting faiss::FaissException and std::exception into a thrown FaissError.
template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body());

// Message of the exception currently being handled (call inside a catch block).
std::string CurrentExceptionMessage();

}  // namespace indexctl

#include "errors_inl.h"
