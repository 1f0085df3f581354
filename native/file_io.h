// Files read, written and XXH64'd in blocks, without FAISS: shared by the FAISS addon's hashed
// writes (hashed_io.cc) and the checksum addon (hash_addon.cc, what verify's level 1 loads).
// XXH64 is Debian's libxxhash (seed 0: what `xxhsum -H1` and the manifest's checksums are).
#pragma once

#define XXH_INLINE_ALL
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>

namespace indexctl {

struct FileDigest {
  uint64_t bytes;
  uint64_t xxh64;
};

namespace file_io {

constexpr size_t kBlock = 4 << 20;
constexpr uint64_t kStartWriteback = 16 << 20;

// "cannot WHAT PATH: strerror", with errno kept in the exception's code().
[[noreturn]] inline void Fail(const std::string& what, const std::string& path) {
  throw std::system_error(errno, std::generic_category(), "cannot " + what + " " + path);
}

// An fd closed on every path out; SyncAndClose() reports close's own error (NFS reports write
// errors there).
class Fd {
 public:
  Fd(const std::string& path, int flags, mode_t mode = 0) : path_(path) {
    do fd_ = ::open(path.c_str(), flags | O_CLOEXEC, mode);
    while (fd_ < 0 && errno == EINTR);
    if (fd_ < 0) Fail((flags & O_WRONLY) ? "create" : "open", path);
  }
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  // Up to n bytes into p; 0 at the end of the file.
  size_t Read(char* p, size_t n) {
    for (;;) {
      ssize_t r = ::read(fd_, p, n);
      if (r >= 0) return static_cast<size_t>(r);
      if (errno != EINTR) Fail("read", path_);
    }
  }
  // Writes all of it; every kStartWriteback bytes the kernel is asked to start writing back what
  // came before (sync_file_range, no wait), so the disk works while the rest is written and the
  // final fdatasync waits only for the tail. One write(2) is at most kBlock: the kernel holds the
  // file's inode lock for the whole of a call, and an unlink of the file waits for it (the exit
  // guard removing a cancelled build's staging waited 0.4-1 s for one 51 MB write on a busy box).
  void WriteAll(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n < kBlock ? n : kBlock);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) Fail("write", path_);
      p += w;
      n -= static_cast<size_t>(w);
      written_ += static_cast<uint64_t>(w);
      if (written_ - flushed_ >= kStartWriteback) {
        ::sync_file_range(fd_, static_cast<off_t>(flushed_),
                          static_cast<off_t>(written_ - flushed_), SYNC_FILE_RANGE_WRITE);
        flushed_ = written_;
      }
    }
  }
  void SyncAndClose() {
    if (::fdatasync(fd_) != 0) Fail("flush", path_);
    int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) Fail("close", path_);
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  uint64_t flushed_ = 0;
};

class Hash {
 public:
  Hash() : state_(XXH64_createState()) {
    if (state_ == nullptr) throw std::bad_alloc();
    XXH64_reset(state_, 0);
  }
  ~Hash() { XXH64_freeState(state_); }
  Hash(const Hash&) = delete;
  Hash& operator=(const Hash&) = delete;
  void Update(const void* p, size_t n) {
    XXH64_update(state_, p, n);
    bytes_ += n;
  }
  FileDigest Digest() const { return {bytes_, XXH64_digest(state_)}; }

 private:
  XXH64_state_t* state_;
  uint64_t bytes_ = 0;
};

// A block-sized buffer on a page boundary: the kernel copies from the page cache at 2.7-6.6 GB/s
// into a destination a few bytes past one (where malloc puts a large block) and 8.8-9.3 GB/s into
// an aligned one (docs/PERFORMANCE.md, AMD EPYC).
inline std::unique_ptr<char, decltype(&std::free)> AlignedBlock(size_t bytes) {
  void* p = std::aligned_alloc(4096, bytes);
  if (p == nullptr) throw std::bad_alloc();
  return {static_cast<char*>(p), &std::free};
}

// Where a long hash can be stopped and watched from another thread: `cancel` is read before each
// block (non-zero: the call throws Cancelled), `done` gets the bytes hashed so far after each.
struct Control {
  const int64_t* cancel = nullptr;
  int64_t* done = nullptr;
};

struct Cancelled : std::runtime_error {
  Cancelled() : std::runtime_error("cancelled") {}
};

// Reads `in` to its end in blocks of `block` bytes, hashing each, and writes it to `out` when
// there is one.
inline FileDigest HashThrough(Fd& in, Fd* out, size_t block = kBlock, Control control = {}) {
  Hash hash;
  auto buf = AlignedBlock(block);
  for (;;) {
    if (control.cancel != nullptr && __atomic_load_n(control.cancel, __ATOMIC_RELAXED) != 0)
      throw Cancelled();
    size_t r = in.Read(buf.get(), block);
    if (r == 0) break;
    hash.Update(buf.get(), r);
    if (out) out->WriteAll(buf.get(), r);
    if (control.done != nullptr)
      __atomic_store_n(control.done, static_cast<int64_t>(hash.Digest().bytes), __ATOMIC_RELAXED);
  }
  return hash.Digest();
}

}  // namespace file_io
}  // namespace indexctl
