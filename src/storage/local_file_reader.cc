#include "storage/local_file_reader.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "common/bytes.h"

namespace ttfs::storage {

std::unique_ptr<LocalFileReader> LocalFileReader::open(const StoreLayout& layout,
                                                       const FileMeta& meta, bool direct_io) {
  if (!meta.complete) return nullptr;
  bool direct = false;
  UniqueFd fd = open_maybe_direct(layout.data_path(meta.task_id), O_RDONLY | O_CLOEXEC, 0,
                                  direct_io, &direct);
  if (!fd) {
    spdlog::warn("open {}: {}", meta.task_id.str(), std::strerror(errno));
    return nullptr;
  }
  // Checked again on the descriptor itself: the path may have changed since
  // the metadata was read.
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) != meta.file_size) {
    spdlog::warn("open {}: data file is not the {} bytes its metadata promises", meta.task_id.str(),
                 meta.file_size);
    return nullptr;
  }
  return std::unique_ptr<LocalFileReader>(new LocalFileReader(meta, std::move(fd), direct));
}

int LocalFileReader::read_at(uint64_t offset, std::span<uint8_t> dst) {
  if (offset > meta_.file_size || dst.size() > meta_.file_size - offset) return EINVAL;
  const bool aligned = direct_io_aligned(offset) && direct_io_aligned(dst.size()) &&
                       direct_io_aligned(reinterpret_cast<uintptr_t>(dst.data()));
  bool direct = false;
  if (const int err = mode_.prepare(fd_.get(), aligned, &direct); err != 0) return err;
  const int error = pread_all(fd_.get(), dst, offset);
  if (error != EINVAL || !direct) return error;
  // The device wants a larger alignment than a page: buffered from now on.
  if (const int err = mode_.give_up(fd_.get()); err != 0) return err;
  return pread_all(fd_.get(), dst, offset);
}

}  // namespace ttfs::storage
