#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <span>

#include "common/bytes.h"
#include "common/unique_fd.h"

namespace ttfs::storage {

// The helpers below return 0 or an errno, and retry EINTR and short
// transfers, so callers never see a partial result.

// Writes every byte of iov[0..count) at `offset`; the iovec array is consumed
// (advanced past what was written). *syscalls counts the pwritev calls made.
int pwritev_all(int fd, iovec* iov, int count, uint64_t offset, uint64_t* syscalls);
int pread_all(int fd, std::span<uint8_t> dst, uint64_t offset);  // EIO on early end of file
// Makes a directory's entries (a rename, a new file) durable.
int fsync_dir(const std::filesystem::path& dir);
// mkdir that treats an existing directory as success; *created tells which.
int make_dir(const std::filesystem::path& dir, bool* created);
// unlink that treats a missing file as success.
int remove_file(const std::filesystem::path& path);
// The size of a file by path, or an errno.
int file_size(const std::filesystem::path& path, uint64_t* size);

// O_DIRECT wants offsets, lengths and buffer addresses on the logical block
// size; a page satisfies every device here.
inline bool direct_io_aligned(uint64_t value) { return value % kPayloadAlignment == 0; }

// open(2) with O_DIRECT when `want_direct`, and without it when the file
// system refuses it (EINVAL: tmpfs of old, some FUSE file systems); *direct
// says which it got.
UniqueFd open_maybe_direct(const std::filesystem::path& path, int flags, mode_t mode,
                           bool want_direct, bool* direct);

// The O_DIRECT mode of one open file, switched with fcntl only when the kind
// of I/O changes (for a file in whole segments: once, for its tail), and
// given up for good once the file system refuses a direct transfer.
class DirectMode {
 public:
  DirectMode() = default;
  explicit DirectMode(bool direct) : allowed_(direct), direct_(direct) {}
  // Readies fd for a transfer that may go direct if `aligned`; *direct says
  // whether it does. 0, or an errno if not even buffered mode can be set.
  int prepare(int fd, bool aligned, bool* direct);
  // A direct transfer failed with EINVAL: buffered from now on. 0 or an errno.
  int give_up(int fd);

 private:
  int set(int fd, bool on);

  bool allowed_ = false;  // the file system took O_DIRECT for this file
  bool direct_ = false;   // the descriptor is in O_DIRECT mode now
};

}  // namespace ttfs::storage
