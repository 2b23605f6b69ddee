#include "storage/local_file_reader.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/bytes.h"
#include "storage/block_checksums.h"

namespace ttfs::storage {

namespace {

// Whether `dst` may be read at `offset` with O_DIRECT as it lies.
bool direct_readable(uint64_t offset, std::span<uint8_t> dst) {
  return direct_io_aligned(offset) && direct_io_aligned(dst.size()) &&
         direct_io_aligned(reinterpret_cast<uintptr_t>(dst.data()));
}

}  // namespace

std::unique_ptr<LocalFileReader> LocalFileReader::open(const StoreLayout& layout,
                                                       const FileMeta& meta, bool direct_io) {
  if (!meta.complete) return nullptr;
  OpenedFile opened = layout.fs().open(layout.data_path(meta.task_id), OpenMode::kRead, direct_io);
  if (!opened.file) {
    spdlog::warn("open {}: {}", meta.task_id.str(), std::strerror(opened.error));
    return nullptr;
  }
  // Checked again on the open file itself: the path may have changed since
  // the metadata was read.
  uint64_t size = 0;
  if (opened.file->size(&size) != 0 || size != meta.file_size) {
    spdlog::warn("open {}: data file is not the {} bytes its metadata promises", meta.task_id.str(),
                 meta.file_size);
    return nullptr;
  }
  return std::unique_ptr<LocalFileReader>(
      new LocalFileReader(meta, std::move(opened.file), opened.direct));
}

int LocalFileReader::read_at(uint64_t offset, std::span<uint8_t> dst) {
  if (!in_file(offset, dst.size())) return EINVAL;
  if (dst.empty()) return 0;  // an empty span may have no storage to copy into
  if (meta_.block_checksums.empty()) return read_raw(offset, dst);  // stored before checksums
  if (whole_blocks(offset, dst.size())) return read_checked(offset, dst);
  constexpr uint64_t kBlock = BlockChecksums::kBlockSize;
  const uint64_t end = offset + dst.size();
  const uint64_t first = offset / kBlock * kBlock;
  const uint64_t last = std::min((end + kBlock - 1) / kBlock * kBlock, meta_.file_size);
  // The read starts or ends inside a block: the whole blocks are read and
  // checked, and the part asked for is copied out.
  const size_t span = static_cast<size_t>(last - first);
  if (scratch_.size() < span) scratch_ = Bytes::aligned(span, 0, kPayloadAlignment);
  if (const int err = read_checked(first, {scratch_.data(), span}); err != 0) return err;
  std::memcpy(dst.data(), scratch_.data() + (offset - first), dst.size());
  return 0;
}

int LocalFileReader::read_consecutive(uint64_t offset, std::span<const std::span<uint8_t>> dsts) {
  bool whole = true;
  bool aligned = true;
  uint64_t at = offset;
  for (const std::span<uint8_t> dst : dsts) {
    if (dst.empty() || !in_file(at, dst.size())) {
      return FileReader::read_consecutive(offset, dsts);  // read_at's answer for each
    }
    whole = whole && whole_blocks(at, dst.size());
    aligned = aligned && direct_readable(at, dst);
    at += dst.size();
  }
  if (meta_.block_checksums.empty() || !whole) {
    return FileReader::read_consecutive(offset, dsts);
  }
  if (const int err = read_raw(offset, dsts, aligned); err != 0) return err;
  for (const std::span<uint8_t> dst : dsts) {
    const int64_t bad = first_bad_block(meta_.block_checksums, offset, dst);
    if (bad >= 0) return report_bad_block(bad);
    offset += dst.size();
  }
  return 0;
}

bool LocalFileReader::in_file(uint64_t offset, uint64_t size) const {
  return offset <= meta_.file_size && size <= meta_.file_size - offset;
}

bool LocalFileReader::whole_blocks(uint64_t offset, uint64_t size) const {
  constexpr uint64_t kBlock = BlockChecksums::kBlockSize;
  const uint64_t end = offset + size;
  return offset % kBlock == 0 && (end % kBlock == 0 || end == meta_.file_size);
}

int LocalFileReader::read_checked(uint64_t offset, std::span<uint8_t> dst) {
  if (const int err = read_raw(offset, dst); err != 0) return err;
  const int64_t bad = first_bad_block(meta_.block_checksums, offset, dst);
  return bad < 0 ? 0 : report_bad_block(bad);
}

int LocalFileReader::report_bad_block(int64_t bad) const {
  spdlog::error(
      "task {}: block {} (bytes from {}) does not match the checksum taken when it was "
      "uploaded; the stored file is damaged and is not served",
      meta_.task_id.str(), bad, bad * int64_t{BlockChecksums::kBlockSize});
  return EBADMSG;
}

int LocalFileReader::read_raw(uint64_t offset, std::span<uint8_t> dst) {
  return read_raw(offset, {&dst, 1}, direct_readable(offset, dst));
}

int LocalFileReader::read_raw(uint64_t offset, std::span<const std::span<uint8_t>> dsts,
                              bool aligned) {
  bool direct = false;
  if (const int err = mode_.prepare(*file_, aligned, &direct); err != 0) return err;
  const int error = file_->read_scattered(dsts, offset);
  if (error != EINVAL || !direct) return error;
  // The device wants a larger alignment than a page: buffered from now on.
  if (const int err = mode_.give_up(*file_); err != 0) return err;
  return file_->read_scattered(dsts, offset);
}

}  // namespace ttfs::storage
