// Reading and writing indexes: files (faiss::write_index / read_index) and in-memory buffers.
#include <faiss/impl/io.h>
#include <faiss/index_io.h>

#include <cstring>

#include "errors.h"
#include "index.h"

namespace indexctl {

Napi::Value IndexWrap::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  faiss::Index* index = RequireIdle(env);
  std::string path = info[0].As<Napi::String>().Utf8Value();
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
  std::string path = info[0].As<Napi::String>().Utf8Value();
  int flags = info[1].As<Napi::Number>().Int32Value();
  faiss::Index* index = Guard(env, [&] { return faiss::read_index(path.c_str(), flags); });
  return IndexWrap::NewInstance(env, index);
}

Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto buf = info[0].As<Napi::Uint8Array>();
  faiss::VectorIOReader reader;
  reader.data.resize(buf.ByteLength());
  if (buf.ByteLength() > 0) std::memcpy(reader.data.data(), buf.Data(), buf.ByteLength());
  faiss::Index* index = Guard(env, [&] { return faiss::read_index(&reader); });
  return IndexWrap::NewInstance(env, index);
}

}  // namespace indexctl
