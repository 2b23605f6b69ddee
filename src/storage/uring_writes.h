#pragma once

#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>

namespace ttfs::storage {

// Puts a batch of writes in flight at once with io_uring and waits for them
// all. The disk writer's writes go to many files; one pwritev after another,
// each O_DIRECT write waits for the device before the next starts, and the
// device, which could take several at a time, sits mostly idle.
//
// One ring per thread that uses it; not to be shared between threads.
class UringWrites {
 public:
  struct Write {
    int fd;
    const iovec* iov;
    int count;
    uint64_t offset;
    int64_t result = 0;  // out: bytes written, or -errno
  };

  // Null when this kernel or its sandbox does not allow io_uring (too old,
  // kernel.io_uring_disabled, a seccomp filter): the caller writes alone.
  static std::unique_ptr<UringWrites> create(unsigned entries);
  ~UringWrites();
  UringWrites(const UringWrites&) = delete;
  UringWrites& operator=(const UringWrites&) = delete;

  // Runs every write, up to `entries` in flight at a time, and sets each
  // one's result. A write that the ring took is always waited for: its
  // buffers are the caller's until it completes.
  void run(std::span<Write> writes);

 private:
  struct Ring;
  explicit UringWrites(std::unique_ptr<Ring> ring, unsigned entries);

  std::unique_ptr<Ring> ring_;
  unsigned entries_;
};

}  // namespace ttfs::storage
