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
  // Fills each of dsts in turn with the bytes that follow one another from
  // `offset`, as read_at would; an implementation may take them all in one
  // disk read.
  virtual int read_consecutive(uint64_t offset, std::span<const std::span<uint8_t>> dsts) {
    for (const std::span<uint8_t> dst : dsts) {
      if (const int err = read_at(offset, dst); err != 0) return err;
      offset += dst.size();
    }
    return 0;
  }
};

}  // namespace ttfs::storage
