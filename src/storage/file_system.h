#pragma once

#include <sys/uio.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace ttfs::storage {

// Every call the store makes to the file system goes through these two
// interfaces, as LevelDB's Env does, so that a test can put a simulated disk
// under the real store code: one that loses what was not synced at a power
// cut, fills up, or fails with EIO at a chosen moment. Production uses
// posix_file_system(). All calls return 0 or an errno, retry EINTR and short
// transfers themselves, and never throw.

// One open file.
class File {
 public:
  virtual ~File() = default;
  // Writes every byte of iov[0..count) at `offset`. The iovec array is
  // consumed (advanced past what was written); *syscalls counts the kernel
  // calls made, retries included.
  virtual int write_at(iovec* iov, int count, uint64_t offset, uint64_t* syscalls) = 0;
  // Fills all of dst from `offset`; EIO if the file ends first.
  virtual int read_at(std::span<uint8_t> dst, uint64_t offset) = 0;
  // Fills each of dsts in turn with the bytes that follow one another from
  // `offset`: one disk read where the kernel takes a vector (preadv).
  virtual int read_scattered(std::span<const std::span<uint8_t>> dsts, uint64_t offset) {
    for (const std::span<uint8_t> dst : dsts) {
      if (const int err = read_at(dst, offset); err != 0) return err;
      offset += dst.size();
    }
    return 0;
  }
  virtual int size(uint64_t* bytes) = 0;
  virtual int truncate(uint64_t bytes) = 0;
  // Turns O_DIRECT on or off for this open file (fcntl F_SETFL).
  virtual int set_direct(bool on) = 0;
  // Reserves the disk blocks of the file's first `bytes` and makes it at
  // least that long (fallocate), so that writes there allocate nothing.
  // EOPNOTSUPP where the file system has no such call.
  virtual int allocate(uint64_t /*bytes*/) { return EOPNOTSUPP; }
  // Makes this file's data and size durable (fdatasync); its directory
  // entry needs FileSystem::sync_dir of its directory.
  virtual int sync() = 0;
};

enum class OpenMode {
  kRead,
  kWrite,           // read and write; created if missing, contents kept
  kWriteTruncated,  // read and write; created if missing, emptied
};

struct OpenedFile {
  std::unique_ptr<File> file;  // null on failure
  int error = 0;
  bool direct = false;  // whether it was opened with O_DIRECT
};

// One of a batch of writes for FileSystem::write_all.
struct WriteRequest {
  File* file = nullptr;
  iovec* iov = nullptr;  // consumed as by File::write_at
  int count = 0;
  uint64_t offset = 0;
  int error = 0;          // out: as File::write_at returns it
  uint64_t syscalls = 0;  // out: kernel calls, or ring entries, it took
};

struct DirEntry {
  std::string name;
  bool is_dir = false;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // With `want_direct`, opens with O_DIRECT, and without it when the file
  // system refuses the flag (EINVAL: tmpfs of old, some FUSE file systems).
  virtual OpenedFile open(const std::filesystem::path& path, OpenMode mode, bool want_direct) = 0;
  // mkdir that treats an existing directory as success; *created tells which.
  virtual int make_dir(const std::filesystem::path& dir, bool* created) = 0;
  // mkdir -p; *created says whether the last component was made.
  virtual int make_dirs(const std::filesystem::path& dir, bool* created) = 0;
  // Makes a directory's entries (a new file, a removal) durable.
  virtual int sync_dir(const std::filesystem::path& dir) = 0;
  // Makes everything written to the file system holding `any_path` durable,
  // data and directory entries alike (syncfs).
  virtual int sync_all(const std::filesystem::path& any_path) = 0;
  // unlink that treats a missing file as success.
  virtual int remove(const std::filesystem::path& path) = 0;
  // The size of a regular file by path; EISDIR for anything else.
  virtual int file_size(const std::filesystem::path& path, uint64_t* bytes) = 0;
  // The entries of a directory, "." and ".." left out; ENOENT if it is not there.
  virtual int list_dir(const std::filesystem::path& dir, std::vector<DirEntry>* entries) = 0;

  // Writes a batch whose requests are to different files, all at once where
  // the system can (io_uring), each with its own outcome. This one writes
  // them one after another.
  virtual void write_all(std::span<WriteRequest> writes) {
    for (WriteRequest& w : writes)
      w.error = w.file->write_at(w.iov, w.count, w.offset, &w.syscalls);
  }
};

// The real one: the calls map one to one onto Linux system calls.
FileSystem& posix_file_system();

}  // namespace ttfs::storage
