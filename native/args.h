// Checked reads of N-API call arguments. TypeScript checks arguments first (with its own
// messages); these guard the native object when it is called directly, so that a wrong type is a
// TypeError naming the argument instead of an unchecked As<>() reading memory as the wrong type.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace indexctl {

Napi::Float32Array Float32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name);
Napi::BigInt64Array BigInt64ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A Uint8Array (a Node Buffer is one).
Napi::Uint8Array Uint8ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name);
std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name);
// A Number that is an integer in [min, max].
int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max);
// A BigInt that fits in int64 without loss (a RangeError when it does not).
int64_t BigIntArg(const Napi::CallbackInfo& info, size_t i, const char* name);

}  // namespace indexctl
