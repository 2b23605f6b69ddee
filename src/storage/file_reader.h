#pragma once

#include <cstdint>
#include <span>

#include "storage/file_meta.h"

namespace ttfs::storage {

// Read access to one complete offline file, for a download. Owned by the
// worker that serves the download; not shared between threads.
class FileReader {
 public:
  virtual ~FileReader() = default;
  virtual const FileMeta& meta() const = 0;
  // Fills all of dst from `offset`. Returns 0 or an errno: EINVAL when the
  // range runs past the file's end, EIO if the file shrank under us.
  virtual int read_at(uint64_t offset, std::span<uint8_t> dst) = 0;
};

}  // namespace ttfs::storage
