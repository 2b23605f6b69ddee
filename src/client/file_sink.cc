#include "client/file_sink.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

namespace ttfs::client {

Result<FileSink> FileSink::create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::error(ErrorCode::kIo, "create " + path + ": " + std::strerror(errno));
  return FileSink(fd);
}

FileSink::FileSink(FileSink&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}

FileSink& FileSink::operator=(FileSink&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

FileSink::~FileSink() {
  if (fd_ >= 0) ::close(fd_);
}

WriteAt FileSink::writer() const {
  return [fd = fd_](uint64_t offset, std::span<const uint8_t> src) {
    size_t done = 0;
    while (done < src.size()) {
      const ssize_t n =
          ::pwrite(fd, src.data() + done, src.size() - done, static_cast<off_t>(offset + done));
      if (n > 0) {
        done += static_cast<size_t>(n);
      } else if (n < 0 && errno == EINTR) {
        continue;
      } else {
        return false;
      }
    }
    return true;
  };
}

Status FileSink::finish() {
  if (fd_ < 0) return {};
  Status s;
  if (::fsync(fd_) != 0)
    s = Status::error(ErrorCode::kIo, std::string("fsync: ") + std::strerror(errno));
  if (::close(fd_) != 0 && s.ok()) {
    s = Status::error(ErrorCode::kIo, std::string("close: ") + std::strerror(errno));
  }
  fd_ = -1;
  return s;
}

}  // namespace ttfs::client
