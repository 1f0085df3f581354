// Files written and hashed in one pass (hashed_io.cc): what a build writes is XXH64'd as its
// bytes go out and flushed before it is reported, so the build never reads it back to checksum it.
#pragma once

#include <faiss/Index.h>

#include <string>

#if __has_include(<xxhash.h>)
#define INDEXCTL_HASHED_IO 1
#include "file_io.h"

namespace indexctl {

// faiss::write_index into a new file at `path` (O_EXCL: never over an existing one), hashed as it
// is written, then fdatasync'ed. Throws std::runtime_error naming the path and strerror.
FileDigest WriteIndexHashed(const faiss::Index* index, const std::string& path);

// Copies `from` to a new file `to` (a reflink where the filesystem can, else a read/write loop
// that hashes each block between the two), then fdatasync'ed. The digest is of the bytes read.
// `control` can stop it between blocks (file_io::Cancelled; `to` is left for the caller to remove).
FileDigest CopyFileHashed(const std::string& from, const std::string& to,
                          file_io::Control control = {});

}  // namespace indexctl
#endif
