// Files written and hashed in one pass. The index goes through FAISS's IOWriter interface (the
// same bytes write_index(path) produces: FAISS's FileIOWriter is an fwrite of each item), the
// chunks copy through a read/write loop of 4 MiB blocks (file_io.h).
#include "hashed_io.h"

#ifdef INDEXCTL_HASHED_IO
#include <faiss/impl/io.h>
#include <faiss/index_io.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <vector>

#include "file_io.h"

namespace indexctl {
namespace {

using file_io::Fail;
using file_io::Fd;
using file_io::Hash;
using file_io::HashThrough;
using file_io::kBlock;

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

}  // namespace

FileDigest WriteIndexHashed(const faiss::Index* index, const std::string& path) {
  Fd fd(path, O_WRONLY | O_CREAT | O_EXCL, 0666);
  HashingWriter writer(fd);
  faiss::write_index(index, &writer);
  writer.Flush();
  fd.SyncAndClose();
  return writer.Digest();
}

FileDigest CopyFileHashed(const std::string& from, const std::string& to,
                          file_io::Control control) {
  Fd in(from, O_RDONLY);
  struct stat st;
  if (::fstat(in.get(), &st) != 0) Fail("stat", from);
  Fd out(to, O_WRONLY | O_CREAT | O_EXCL, st.st_mode & 0777);
  ::posix_fadvise(in.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  // A reflink shares the blocks: only the hash needs the bytes.
  bool cloned = ::ioctl(out.get(), FICLONE, in.get()) == 0;
  FileDigest digest = HashThrough(in, cloned ? nullptr : &out, kBlock, control);
  out.SyncAndClose();
  return digest;
}

}  // namespace indexctl
#endif
