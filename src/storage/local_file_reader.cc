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
  const std::string path = layout.data_path(meta.task_id);
  bool direct = direct_io;
  UniqueFd fd(direct ? ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECT) : -1);
  if (!fd) {
    direct = false;
    fd = UniqueFd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  }
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
  auto aligned = [](uint64_t v) { return v % kPayloadAlignment == 0; };
  bool direct = direct_allowed_ && aligned(offset) && aligned(dst.size()) &&
                aligned(reinterpret_cast<uintptr_t>(dst.data()));
  if (direct && !use_direct(true)) direct = direct_allowed_ = false;
  if (!direct && !use_direct(false)) return errno;
  const int error = pread_all(fd_.get(), dst, offset);
  if (error != EINVAL || !direct) return error;
  // The device wants a larger alignment than a page: buffered from now on.
  direct_allowed_ = false;
  if (!use_direct(false)) return errno;
  return pread_all(fd_.get(), dst, offset);
}

bool LocalFileReader::use_direct(bool on) {
  // O_DIRECT is a mode of the open file, switched only when the kind of read
  // changes; a download in whole segments switches once, for the tail.
  if (direct_ == on) return true;
  const int flags = ::fcntl(fd_.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) != 0) {
    return false;
  }
  direct_ = on;
  return true;
}

}  // namespace ttfs::storage
