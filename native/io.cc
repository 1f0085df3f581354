// Reading and writing indexes: files (faiss::write_index / read_index) and in-memory buffers.
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cstdint>
#include <cstring>

#include "args.h"
#include "errors.h"
#include "index.h"

namespace indexctl {

Napi::Value IndexWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  std::string path = StringArg(info, 0, "path");
  Guard(env, [&] { faiss::write_index(index, path.c_str()); });
  return env.Undefined();
}

Napi::Value IndexWrap::ToBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  faiss::VectorIOWriter writer;
  Guard(env, [&] { faiss::write_index(index, &writer); });
  return Napi::Buffer<uint8_t>::Copy(env, writer.data.data(), writer.data.size());
}

// readIndex(path, ioFlags)
Napi::Value ReadIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = StringArg(info, 0, "path");
  int flags = static_cast<int>(IntArg(info, 1, "ioFlags", 0, INT32_MAX));
  faiss::Index* index = Guard(env, [&] { return faiss::read_index(path.c_str(), flags); });
  return IndexWrap::NewInstance(env, index);
}

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = Uint8ArrayArg(info, 0, "buffer");
  faiss::VectorIOReader reader;
  reader.data.resize(buf.ByteLength());
  if (buf.ByteLength() > 0) std::memcpy(reader.data.data(), buf.Data(), buf.ByteLength());
  faiss::Index* index = Guard(env, [&] { return faiss::read_index(&reader); });
  return IndexWrap::NewInstance(env, index);
}

}  // namespace indexctl
