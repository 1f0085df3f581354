#pragma once

#include <exception>

namespace indexctl {

template <typename F>
auto Guard(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (...) {
    throw ToJsError(env, CurrentException());
  }
}

}  // namespace indexctl
