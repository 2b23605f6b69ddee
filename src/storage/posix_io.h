#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <filesystem>
#include <span>

#include "common/unique_fd.h"

namespace ttfs::storage {

// The helpers below return 0 or an errno, and retry EINTR and short
// transfers, so callers never see a partial result.

// Writes every byte of iov[0..count) at `offset`; the iovec array is consumed
// (advanced past what was written). *syscalls counts the pwritev calls made.
int pwritev_all(int fd, iovec* iov, int count, uint64_t offset, uint64_t* syscalls);
int pread_all(int fd, std::span<uint8_t> dst, uint64_t offset);  // EIO on early end of file
int write_all(int fd, std::span<const uint8_t> src);
// Makes a directory's entries (a rename, a new file) durable.
int fsync_dir(const std::filesystem::path& dir);
// mkdir that treats an existing directory as success; *created tells which.
int make_dir(const std::filesystem::path& dir, bool* created);
// unlink that treats a missing file as success.
int remove_file(const std::filesystem::path& path);
// The size of a file by path, or an errno.
int file_size(const std::filesystem::path& path, uint64_t* size);

}  // namespace ttfs::storage
