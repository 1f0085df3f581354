// Per-row kernels over float32 batches (kernels.cc).
#pragma once

#include <napi.h>

namespace indexctl {

Napi::Value NonFiniteRows(const Napi::CallbackInfo& info);
#if __has_include(<xxhash.h>)
Napi::Value HashRows(const Napi::CallbackInfo& info);
#endif

}  // namespace indexctl
