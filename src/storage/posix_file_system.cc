#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <limits>
#include <span>
#include <system_error>
#include <vector>

#include "common/unique_fd.h"
#include "storage/file_system.h"
#include "storage/uring_writes.h"

namespace ttfs::storage {

namespace {

// Steps an iovec array past `n` bytes transferred.
void advance(iovec*& iov, int& count, size_t n) {
  while (n > 0) {
    if (n >= iov->iov_len) {
      n -= iov->iov_len;
      iov->iov_len = 0;
      ++iov;
      --count;
    } else {
      iov->iov_base = static_cast<char*>(iov->iov_base) + n;
      iov->iov_len -= n;
      n = 0;
    }
  }
}

// Runs preadv or pwritev until every element of iov is done: retried after
// EINTR and after short transfers, at most IOV_MAX elements a call. *calls
// counts the system calls made.
template <typename VectoredIo>
int transfer_all(int fd, iovec* iov, int count, uint64_t offset, uint64_t* calls, VectoredIo io) {
  while (count > 0) {
    if (iov->iov_len == 0) {  // nothing left in this element (or an empty one)
      ++iov;
      --count;
      continue;
    }
    if (offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) return EFBIG;
    ++*calls;
    const ssize_t n = io(fd, iov, std::min(count, IOV_MAX), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return EIO;  // no progress and no error (or the file ended): do not spin
    offset += static_cast<uint64_t>(n);
    advance(iov, count, static_cast<size_t>(n));
  }
  return 0;
}

class PosixFile final : public File {
 public:
  explicit PosixFile(UniqueFd fd) : fd_(std::move(fd)) {}

  int fd() const { return fd_.get(); }

  int write_at(iovec* iov, int count, uint64_t offset, uint64_t* syscalls) override {
    return transfer_all(fd_.get(), iov, count, offset, syscalls, ::pwritev);
  }

  int read_at(std::span<uint8_t> dst, uint64_t offset) override {
    size_t done = 0;
    while (done < dst.size()) {
      const ssize_t n = ::pread(fd_.get(), dst.data() + done, dst.size() - done,
                                static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        return errno;
      }
      if (n == 0) return EIO;
      done += static_cast<size_t>(n);
    }
    return 0;
  }

  int read_scattered(std::span<const std::span<uint8_t>> dsts, uint64_t offset) override {
    std::vector<iovec> iov;
    iov.reserve(dsts.size());
    for (const std::span<uint8_t> dst : dsts) iov.push_back({dst.data(), dst.size()});
    uint64_t calls = 0;
    return transfer_all(fd_.get(), iov.data(), static_cast<int>(iov.size()), offset, &calls,
                        ::preadv);
  }

  int size(uint64_t* bytes) override {
    struct stat st;
    if (::fstat(fd_.get(), &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return EISDIR;
    *bytes = static_cast<uint64_t>(st.st_size);
    return 0;
  }

  int truncate(uint64_t bytes) override {
    return ::ftruncate(fd_.get(), static_cast<off_t>(bytes)) == 0 ? 0 : errno;
  }

  int set_direct(bool on) override {
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, on ? flags | O_DIRECT : flags & ~O_DIRECT) != 0) {
      return errno;
    }
    return 0;
  }

  int allocate(uint64_t bytes) override {
    while (::fallocate(fd_.get(), 0, 0, static_cast<off_t>(bytes)) != 0) {
      if (errno != EINTR) return errno;
    }
    return 0;
  }

  int sync() override {
    while (::fdatasync(fd_.get()) != 0) {
      if (errno != EINTR) return errno;
    }
    return 0;
  }

 private:
  UniqueFd fd_;
};

class PosixFileSystem final : public FileSystem {
 public:
  OpenedFile open(const std::filesystem::path& path, OpenMode mode, bool want_direct) override {
    int flags = O_CLOEXEC;
    switch (mode) {
      case OpenMode::kRead: flags |= O_RDONLY; break;
      case OpenMode::kWrite: flags |= O_RDWR | O_CREAT; break;
      case OpenMode::kWriteTruncated: flags |= O_RDWR | O_CREAT | O_TRUNC; break;
    }
    OpenedFile opened;
    UniqueFd fd;
    if (want_direct) {
      fd = UniqueFd(::open(path.c_str(), flags | O_DIRECT, kFileMode));
      opened.direct = static_cast<bool>(fd);
    }
    if (!fd && (!want_direct || errno == EINVAL)) {
      fd = UniqueFd(::open(path.c_str(), flags, kFileMode));
    }
    if (!fd) {
      opened.error = errno;
      return opened;
    }
    opened.file = std::make_unique<PosixFile>(std::move(fd));
    return opened;
  }

  int make_dir(const std::filesystem::path& dir, bool* created) override {
    *created = false;
    if (::mkdir(dir.c_str(), kDirMode) == 0) {
      *created = true;
      return 0;
    }
    if (errno != EEXIST) return errno;
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0) return errno;
    return S_ISDIR(st.st_mode) ? 0 : ENOTDIR;
  }

  int make_dirs(const std::filesystem::path& dir, bool* created) override {
    std::error_code ec;
    *created = std::filesystem::create_directories(dir, ec);
    return ec ? ec.value() : 0;
  }

  int sync_dir(const std::filesystem::path& dir) override {
    UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return errno;
    return ::fsync(fd.get()) == 0 ? 0 : errno;
  }

  int sync_all(const std::filesystem::path& any_path) override {
    UniqueFd fd(::open(any_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno;
    return ::syncfs(fd.get()) == 0 ? 0 : errno;
  }

  int remove(const std::filesystem::path& path) override {
    if (::unlink(path.c_str()) == 0 || errno == ENOENT) return 0;
    return errno;
  }

  int file_size(const std::filesystem::path& path, uint64_t* bytes) override {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return errno;
    if (!S_ISREG(st.st_mode)) return EISDIR;
    *bytes = static_cast<uint64_t>(st.st_size);
    return 0;
  }

  int list_dir(const std::filesystem::path& dir, std::vector<DirEntry>* entries) override {
    entries->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return errno;
    int error = 0;
    for (;;) {
      errno = 0;
      const dirent* e = ::readdir(d);
      if (e == nullptr) {
        error = errno;
        break;
      }
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      bool is_dir = e->d_type == DT_DIR;
      if (e->d_type == DT_UNKNOWN) {  // some file systems do not fill d_type
        struct stat st;
        is_dir =
            ::fstatat(::dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
      }
      entries->push_back({name, is_dir});
    }
    ::closedir(d);
    return error;
  }

  void write_all(std::span<WriteRequest> writes) override {
    UringWrites* ring = writes.size() > 1 ? thread_ring() : nullptr;
    if (ring == nullptr) return FileSystem::write_all(writes);
    thread_local std::vector<UringWrites::Write> batch;
    thread_local std::vector<WriteRequest*> requests;
    batch.clear();
    requests.clear();
    for (WriteRequest& w : writes) {
      const auto* file = dynamic_cast<const PosixFile*>(w.file);
      if (file == nullptr || w.offset > static_cast<uint64_t>(std::numeric_limits<off_t>::max())) {
        w.error = w.file->write_at(w.iov, w.count, w.offset, &w.syscalls);
        continue;
      }
      batch.push_back({file->fd(), w.iov, w.count, w.offset});
      requests.push_back(&w);
    }
    ring->run(batch);
    for (size_t i = 0; i < batch.size(); ++i) {
      WriteRequest& w = *requests[i];
      ++w.syscalls;
      const int64_t result = batch[i].result;
      if (result < 0 && result != -EINTR && result != -EAGAIN) {
        w.error = static_cast<int>(-result);
        continue;
      }
      // A short write, or one to try again: the rest goes as write_at would.
      const auto written = static_cast<size_t>(std::max<int64_t>(result, 0));
      advance(w.iov, w.count, written);
      w.error = w.file->write_at(w.iov, w.count, w.offset + written, &w.syscalls);
    }
  }

 private:
  // The ring of the calling thread (the disk writer's), made at its first
  // batch; null if io_uring is not to be had.
  static UringWrites* thread_ring() {
    thread_local bool tried = false;
    thread_local std::unique_ptr<UringWrites> ring;
    if (!tried) {
      tried = true;
      ring = UringWrites::create(kRingEntries);
    }
    return ring.get();
  }

  static constexpr unsigned kRingEntries = 256;
  static constexpr mode_t kFileMode = 0640;
  static constexpr mode_t kDirMode = 0750;
};

}  // namespace

FileSystem& posix_file_system() {
  static PosixFileSystem instance;
  return instance;
}

}  // namespace ttfs::storage
