#include "storage/uring_writes.h"

#include <liburing.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace ttfs::storage {

struct UringWrites::Ring {
  io_uring ring;
};

std::unique_ptr<UringWrites> UringWrites::create(unsigned entries) {
  auto ring = std::make_unique<Ring>();
  if (const int err = io_uring_queue_init(entries, &ring->ring, 0); err < 0) {
    spdlog::info("io_uring is not available ({}): the disk writer writes one file at a time",
                 std::strerror(-err));
    return nullptr;
  }
  return std::unique_ptr<UringWrites>(new UringWrites(std::move(ring), entries));
}

UringWrites::UringWrites(std::unique_ptr<Ring> ring, unsigned entries)
    : ring_(std::move(ring)), entries_(entries) {}

UringWrites::~UringWrites() { io_uring_queue_exit(&ring_->ring); }

void UringWrites::run(std::span<Write> writes) {
  io_uring* ring = &ring_->ring;
  size_t next = 0;
  while (next < writes.size()) {
    unsigned queued = 0;
    while (next + queued < writes.size() && queued < entries_) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring);
      if (sqe == nullptr) break;
      const Write& w = writes[next + queued];
      io_uring_prep_writev(sqe, w.fd, w.iov, static_cast<unsigned>(w.count), w.offset);
      io_uring_sqe_set_data64(sqe, next + queued);
      ++queued;
    }
    unsigned submitted = 0;
    unsigned completed = 0;
    while (completed < queued) {
      if (submitted < queued) {
        const int r = io_uring_submit(ring);
        if (r > 0) {
          submitted += static_cast<unsigned>(r);
        } else if (r != -EINTR && r != -EAGAIN && r != -EBUSY && r != 0) {
          // Queued writes point into buffers their callers will free: they
          // must neither be left to go out later nor be written twice. A
          // failure here is a bug, not a condition to carry on from.
          spdlog::critical("io_uring_submit: {}", std::strerror(-r));
          std::abort();
        } else if (completed == submitted) {
          std::this_thread::yield();  // the kernel is short of memory: try again
          continue;
        }
      }
      if (completed == submitted) continue;
      io_uring_cqe* cqe = nullptr;
      const int r = io_uring_wait_cqe(ring, &cqe);
      if (r == -EINTR) continue;
      if (r < 0) {
        spdlog::critical("io_uring_wait_cqe: {}", std::strerror(-r));
        std::abort();
      }
      writes[io_uring_cqe_get_data64(cqe)].result = cqe->res;
      io_uring_cqe_seen(ring, cqe);
      ++completed;
    }
    next += queued;
  }
}

}  // namespace ttfs::storage
