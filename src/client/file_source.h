#pragma once

#include <cstdint>
#include <string>

#include "client/data_io.h"
#include "client/status.h"

namespace ttfs::client {

// A local file to send, read with pread (so concurrent readers need no seek).
class FileSource {
 public:
  static Result<FileSource> open(const std::string& path);

  FileSource(FileSource&& other) noexcept;
  FileSource& operator=(FileSource&& other) noexcept;
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;
  ~FileSource();

  uint64_t size() const { return size_; }
  // A ReadAt bound to this object, which must outlive it. A short file
  // (truncated while sending) is a failure, not zeros.
  ReadAt reader() const;

 private:
  FileSource(int fd, uint64_t size) : fd_(fd), size_(size) {}

  int fd_ = -1;
  uint64_t size_ = 0;
};

}  // namespace ttfs::client
