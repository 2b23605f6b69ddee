#pragma once

#include <memory>

#include "storage/file_reader.h"
#include "storage/posix_io.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// A FileReader over one complete local data file. The descriptor is opened
// once, so a file removed after the login (retention, abort) still serves
// the download already under way.
class LocalFileReader final : public FileReader {
 public:
  // nullptr unless `meta` is complete and its data file is exactly file_size
  // bytes long when opened.
  // With `direct_io`, page-aligned reads bypass the page cache (see
  // DiskWriterOptions::direct_io); the rest are buffered.
  static std::unique_ptr<LocalFileReader> open(const StoreLayout& layout, const FileMeta& meta,
                                               bool direct_io);

  const FileMeta& meta() const override { return meta_; }
  int read_at(uint64_t offset, std::span<uint8_t> dst) override;

 private:
  LocalFileReader(FileMeta meta, UniqueFd fd, bool direct)
      : meta_(std::move(meta)), fd_(std::move(fd)), direct_allowed_(direct), direct_(direct) {}
  bool use_direct(bool on);

  FileMeta meta_;
  UniqueFd fd_;
  bool direct_allowed_;  // the file system took O_DIRECT for this file
  bool direct_;          // the descriptor is in O_DIRECT mode now
};

}  // namespace ttfs::storage
