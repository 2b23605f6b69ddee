#pragma once

#include <cstdint>
#include <string>

#include "client/data_io.h"
#include "client/status.h"

namespace ttfs::client {

// A local file to receive into, written with pwrite at each segment's offset
// (segments may arrive in any order).
class FileSink {
 public:
  // Creates or truncates `path`.
  static Result<FileSink> create(const std::string& path);

  FileSink(FileSink&& other) noexcept;
  FileSink& operator=(FileSink&& other) noexcept;
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;
  ~FileSink();

  // A WriteAt bound to this object, which must outlive it.
  WriteAt writer() const;
  // fsyncs and closes; reports the first failure.
  Status finish();

 private:
  explicit FileSink(int fd) : fd_(fd) {}

  int fd_ = -1;
};

}  // namespace ttfs::client
