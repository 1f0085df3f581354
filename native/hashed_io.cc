// Files written and hashed in one pass. The index goes through FAISS's IOWriter interface (the
// same bytes write_index(path) produces: FAISS's FileIOWriter is an fwrite of each item), the
// chunks copy through a read/write loop of 4 MiB blocks. XXH64 is Debian's libxxhash (seed 0,
// what `xxhsum -H1` and the manifest's checksums are).
#include "hashed_io.h"

#ifdef INDEXCTL_HASHED_IO
#define XXH_INLINE_ALL
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace indexctl {
namespace {

constexpr size_t kBlock = 4 << 20;
constexpr uint64_t kStartWriteback = 16 << 20;

[[noreturn]] void Fail(const std::string& what, const std::string& path) {
  throw std::runtime_error("cannot " + what + " " + path + ": " + std::strerror(errno));
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
  // final fdatasync waits only for the tail.
  void WriteAll(const char* p, size_t n) {
    while (n > 0) {
      ssize_t w = ::write(fd_, p, n);
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

// write_index's items are mostly a few bytes (header fields) and a few large arrays (codes, ids):
// small ones are gathered into a block, large ones written straight from FAISS's memory.
class HashingWriter : public faiss::IOWriter {
 public:
  explicit HashingWriter(Fd& fd) : fd_(fd) { block_.reserve(kBlock); }
  size_t operator()(const void* ptr, size_t size, size_t nitems) override {
    size_t n = size * nitems;
    hash_.Update(ptr, n);
    if (block_.size() + n > kBlock) Flush();
    if (n >= kBlock)
      fd_.WriteAll(static_cast<const char*>(ptr), n);
    else
      block_.insert(block_.end(), static_cast<const char*>(ptr), static_cast<const char*>(ptr) + n);
    return nitems;
  }
  void Flush() {
    fd_.WriteAll(block_.data(), block_.size());
    block_.clear();
  }
  FileDigest Digest() const { return hash_.Digest(); }

 private:
  Fd& fd_;
  Hash hash_;
  std::vector<char> block_;
};

// Reads `in` to its end, hashing each block, and writes it to `out` when there is one.
FileDigest HashThrough(Fd& in, Fd* out) {
  Hash hash;
  std::vector<char> buf(kBlock);
  for (size_t r; (r = in.Read(buf.data(), buf.size())) > 0;) {
    hash.Update(buf.data(), r);
    if (out) out->WriteAll(buf.data(), r);
  }
  return hash.Digest();
}

}  // namespace

FileDigest WriteIndexHashed(const faiss::Index* index, const std::string& path) {
  Fd fd(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
  HashingWriter writer(fd);
  faiss::write_index(index, &writer);
  writer.Flush();
  fd.SyncAndClose();
  return writer.Digest();
}

FileDigest CopyFileHashed(const std::string& from, const std::string& to) {
  Fd in(from, O_RDONLY);
  struct stat st;
  if (::fstat(in.get(), &st) != 0) Fail("stat", from);
  Fd out(to, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 0777);
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  // A reflink shares the blocks: only the hash needs the bytes.
  bool cloned = ::ioctl(out.get(), FICLONE, in.get()) == 0;
  FileDigest digest = HashThrough(in, cloned ? nullptr : &out);
  out.SyncAndClose();
  return digest;
}

}  // namespace indexctl
#endif
