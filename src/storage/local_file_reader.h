#pragma once

#include <memory>

#include "storage/direct_mode.h"
#include "storage/file_reader.h"
#include "storage/file_system.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// A FileReader over one complete local data file. Every read is checked
// against the file's block checksums, and a block that does not match is
// refused with EBADMSG: a damaged disk must not reach a receiver. The descriptor is opened
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
  // One disk read when every piece is whole checksum blocks (the last may
  // end at the file's end) and lies where O_DIRECT can take it.
  int read_consecutive(uint64_t offset, std::span<const std::span<uint8_t>> dsts) override;

 private:
  LocalFileReader(FileMeta meta, std::unique_ptr<File> file, bool direct)
      : meta_(std::move(meta)), file_(std::move(file)), mode_(direct) {}

  // The `size` bytes from `offset` lie within the file.
  bool in_file(uint64_t offset, uint64_t size) const;
  // They start on a checksum block and end on one or at the file's end.
  bool whole_blocks(uint64_t offset, uint64_t size) const;
  // Reads without checking checksums.
  int read_raw(uint64_t offset, std::span<uint8_t> dst);
  int read_raw(uint64_t offset, std::span<const std::span<uint8_t>> dsts, bool aligned);
  // Reads dst from whole blocks and checks each against its checksum.
  int read_checked(uint64_t offset, std::span<uint8_t> dst);
  // Logs the damage found in block `bad`; returns EBADMSG.
  int report_bad_block(int64_t bad) const;

  FileMeta meta_;
  std::unique_ptr<File> file_;
  DirectMode mode_;
  Bytes scratch_;  // whole blocks around a read that ends inside one
};

}  // namespace ttfs::storage
