// Per-row kernels over a batch of float32 vectors that JS would run at a few ns per float:
// the non-finite check of every decoded embedding and the per-chunk XXH64
// (build/embedding-hash.ts). Without Debian's libxxhash-dev at build time there is no hashRows (JS
// then hashes with xxhash-wasm). Both run on the calling thread, over memory the caller owns, and
// allocate nothing per row.
#if __has_include(<xxhash.h>)
#define XXH_INLINE_ALL
#include <xxhash.h>
#define INDEXCTL_HAVE_XXHASH 1
#endif

#include <cstdint>
#include <cstring>

#include "args.h"
#include "kernels.h"

namespace indexctl {
namespace {

struct Rows {
  const float* data;
  size_t rows;
  size_t dim;
};

// values (rows x dim float32) and dim, checked: the array's length is a whole number of rows.
Rows RowsArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
    throw Napi::TypeError::New(env, "values must be a Float32Array");
  }
  auto values = info[0].As<Napi::Float32Array>();
  size_t dim = static_cast<size_t>(IntArg(info, 1, "dim", 1, int64_t{1} << 31));
  if (values.ElementLength() % dim != 0) {
    throw Napi::RangeError::New(env, "values holds " + std::to_string(values.ElementLength()) +
                                         " floats, not a multiple of dim " + std::to_string(dim));
  }
  return {values.Data(), values.ElementLength() / dim, dim};
}

// A float is NaN or +-Inf exactly when its exponent bits are all ones; adding one to the exponent
// field then carries into bit 31. An OR of those sums over a block is a loop GCC vectorizes (O3:
// at -O2 the per-row loop ran at 2.3 GB/s, this one at memory speed), so the block is checked
// whole and rows are looked at one by one only when it holds a bad value.
__attribute__((optimize("O3"))) bool BlockFinite(const float* data, size_t n) {
  const auto* words = reinterpret_cast<const uint32_t*>(data);
  uint32_t acc = 0;
  for (size_t i = 0; i < n; i++) acc |= (words[i] & 0x7f800000u) + 0x00800000u;
  return (acc & 0x80000000u) == 0;
}

}  // namespace

// nonFiniteRows(values, dim) -> number[]: the rows holding a NaN or +-Inf, ascending.
Napi::Value NonFiniteRows(const Napi::CallbackInfo& info) {
  Rows r = RowsArg(info);
  Napi::Array out = Napi::Array::New(info.Env());
  uint32_t n = 0;
  if (BlockFinite(r.data, r.rows * r.dim)) return out;
  for (size_t i = 0; i < r.rows; i++) {
    if (!BlockFinite(r.data + i * r.dim, r.dim))
      out.Set(n++, Napi::Number::New(info.Env(), static_cast<double>(i)));
  }
  return out;
}

#ifdef INDEXCTL_HAVE_XXHASH
// hashRows(values, dim, out): out[i] = XXH64 (seed 0) of row i's dim * 4 bytes; out is a
// BigUint64Array of at least as many rows.
Napi::Value HashRows(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Rows r = RowsArg(info);
  if (info.Length() < 3 || !info[2].IsTypedArray() ||
      info[2].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array) {
    throw Napi::TypeError::New(env, "out must be a BigUint64Array");
  }
  auto out = info[2].As<Napi::TypedArray>();
  if (out.ElementLength() < r.rows) {
    throw Napi::RangeError::New(env, "out holds " + std::to_string(out.ElementLength()) +
                                         " hashes, " + std::to_string(r.rows) + " rows given");
  }
  auto* hashes = reinterpret_cast<uint64_t*>(static_cast<uint8_t*>(out.ArrayBuffer().Data()) +
                                             out.ByteOffset());
  const size_t bytes = r.dim * sizeof(float);
  for (size_t i = 0; i < r.rows; i++) hashes[i] = XXH64(r.data + i * r.dim, bytes, 0);
  return env.Undefined();
}
#endif

}  // namespace indexctl
