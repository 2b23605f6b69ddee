#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "common/unique_fd.h"

namespace ttfs::floor {

// The two ends of one TCP connection over 127.0.0.1, blocking, with
// TCP_NODELAY as ttfsd sets it.
struct SocketPair {
  UniqueFd server_end;
  UniqueFd peer_end;
};
SocketPair connect_over_loopback();

// Blocking transfers that finish or throw (std::system_error, or
// std::runtime_error at an early end of stream).
void read_exact(int fd, void* data, size_t size);
void write_all(int fd, const void* data, size_t size);
// Moves `size` bytes from `in` to `out` with splice(2), one end a pipe.
void splice_exact(int in, int out, size_t size);
// sendfile(2) of `size` bytes of `file` from `offset` to `socket`.
void sendfile_exact(int socket, int file, off_t offset, size_t size);

// CPU time of the calling thread so far, in seconds.
double thread_cpu_seconds();

}  // namespace ttfs::floor
