#include "args.h"

#include <cmath>

namespace indexctl {

namespace {

// "Float64Array", "number", "undefined", ... for the message.
std::string Describe(Napi::Value value) {
  if (value.IsNull()) return "null";
  if (value.IsUndefined()) return "undefined";
  if (value.IsObject()) {
    Napi::Value ctor = value.As<Napi::Object>().Get("constructor");
    if (ctor.IsFunction()) {
      Napi::Value name = ctor.As<Napi::Object>().Get("name");
      if (name.IsString()) return name.As<Napi::String>().Utf8Value();
    }
    return "object";
  }
  if (value.IsNumber()) return "number";
  if (value.IsBigInt()) return "bigint";
  if (value.IsString()) return "string";
  if (value.IsBoolean()) return "boolean";
  return "a " + std::to_string(static_cast<int>(value.Type()));
}

[[noreturn]] void Expected(const Napi::CallbackInfo& info, size_t i, const char* name,
                           const char* what) {
  throw Napi::TypeError::New(info.Env(),
                             std::string(name) + " must be " + what + ", got " + Describe(info[i]));
}

template <typename T>
T TypedArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name,
                napi_typedarray_type type, const char* what) {
  Napi::Value value = info[i];
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != type) {
    Expected(info, i, name, what);
  }
  return value.As<T>();
}

}  // namespace

Napi::Float32Array Float32ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return TypedArrayArg<Napi::Float32Array>(info, i, name, napi_float32_array, "a Float32Array");
}

Napi::BigInt64Array BigInt64ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return TypedArrayArg<Napi::BigInt64Array>(info, i, name, napi_bigint64_array, "a BigInt64Array");
}

Napi::Uint8Array Uint8ArrayArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  return TypedArrayArg<Napi::Uint8Array>(info, i, name, napi_uint8_array, "a Buffer or Uint8Array");
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsString()) Expected(info, i, name, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t min,
               int64_t max) {
  double v = info[i].IsNumber() ? info[i].As<Napi::Number>().DoubleValue() : NAN;
  // Compared as doubles: every bound used here is exactly representable.
  if (!std::isfinite(v) || std::trunc(v) != v || v < static_cast<double>(min) ||
      v > static_cast<double>(max)) {
    throw Napi::TypeError::New(
        info.Env(), std::string(name) + " must be an integer in [" + std::to_string(min) + ", " +
                        std::to_string(max) + "], got " +
                        (info[i].IsNumber() ? info[i].ToString().Utf8Value() : Describe(info[i])));
  }
  return static_cast<int64_t>(v);
}

int64_t BigIntArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBigInt()) Expected(info, i, name, "a bigint");
  bool lossless = false;
  int64_t v = info[i].As<Napi::BigInt>().Int64Value(&lossless);
  if (!lossless) {
    throw Napi::RangeError::New(
        info.Env(),
        std::string(name) + " " + info[i].ToString().Utf8Value() + " does not fit in int64");
  }
  return v;
}

}  // namespace indexctl
