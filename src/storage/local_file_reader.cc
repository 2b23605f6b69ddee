#include "storage/local_file_reader.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace ttfs::storage {

std::unique_ptr<LocalFileReader> LocalFileReader::open(const StoreLayout& layout,
                                                       const FileMeta& meta) {
  if (!meta.complete) return nullptr;
  UniqueFd fd(::open(layout.data_path(meta.task_id).c_str(), O_RDONLY | O_CLOEXEC));
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
  return std::unique_ptr<LocalFileReader>(new LocalFileReader(meta, std::move(fd)));
}

int LocalFileReader::read_at(uint64_t offset, std::span<uint8_t> dst) {
  if (offset > meta_.file_size || dst.size() > meta_.file_size - offset) return EINVAL;
  return pread_all(fd_.get(), dst, offset);
}

}  // namespace ttfs::storage
