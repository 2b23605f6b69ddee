#include "storage/posix_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <limits>

namespace ttfs::storage {

int pwritev_all(int fd, iovec* iov, int count, uint64_t offset, uint64_t* syscalls) {
  while (count > 0) {
    if (iov->iov_len == 0) {  // nothing left in this element (or an empty one)
      ++iov;
      --count;
      continue;
    }
    if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) return EFBIG;
    ++*syscalls;
    const ssize_t n = ::pwritev(fd, iov, count, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // no progress and no error: do not spin
    offset += static_cast<uint64_t>(n);
    size_t left = static_cast<size_t>(n);
    while (left > 0) {
      if (left >= iov->iov_len) {
        left -= iov->iov_len;
        iov->iov_len = 0;
        ++iov;
        --count;
      } else {
        iov->iov_base = static_cast<char*>(iov->iov_base) + left;
        iov->iov_len -= left;
        left = 0;
      }
    }
  }
  return 0;
}

int pread_all(int fd, std::span<uint8_t> dst, uint64_t offset) {
  size_t done = 0;
  while (done < dst.size()) {
    const ssize_t n =
        ::pread(fd, dst.data() + done, dst.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;
    done += static_cast<size_t>(n);
  }
  return 0;
}

int fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return errno;
  if (::fsync(fd.get()) != 0) return errno;
  return 0;
}

int make_dir(const std::filesystem::path& dir, bool* created) {
  *created = false;
  if (::mkdir(dir.c_str(), 0750) == 0) {
    *created = true;
    return 0;
  }
  if (errno != EEXIST) return errno;
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0) return errno;
  return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
}

int remove_file(const std::filesystem::path& path) {
  if (::unlink(path.c_str()) == 0 || errno == ENOENT) return 0;
  return errno;
}

int file_size(const std::filesystem::path& path, uint64_t* size) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return errno;
  if (!S_ISREG(st.st_mode)) return EISDIR;
  *size = static_cast<uint64_t>(st.st_size);
  return 0;
}

UniqueFd open_maybe_direct(const std::filesystem::path& path, int flags, mode_t mode,
                           bool want_direct, bool* direct) {
  if (want_direct) {
    UniqueFd fd(::open(path.c_str(), flags | O_DIRECT, mode));
    if (fd || errno != EINVAL) {
      *direct = static_cast<bool>(fd);
      return fd;
    }
  }
  *direct = false;
  return UniqueFd(::open(path.c_str(), flags, mode));
}

int DirectMode::set(int fd, bool on) {
  if (direct_ == on) return 0;
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags < 0 || ::fcntl(fd, F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) != 0) {
    return errno;
  }
  direct_ = on;
  return 0;
}

int DirectMode::prepare(int fd, bool aligned, bool* direct) {
  *direct = allowed_ && aligned;
  if (*direct && set(fd, true) == 0) return 0;
  if (*direct) allowed_ = *direct = false;  // the file refuses the mode itself
  return set(fd, false);
}

int DirectMode::give_up(int fd) {
  allowed_ = false;
  return set(fd, false);
}

}  // namespace ttfs::storage
