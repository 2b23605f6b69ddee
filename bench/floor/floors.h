#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ttfs::floor {

// What a server must at least spend on each segment of a path, measured by
// doing only that: bare loops over blocking loopback sockets, one segment
// at a time, no protocol, no checksums, no threads but the peers'. Set
// beside ttfsd's own figures, they say how much of its CPU per segment is
// the kernel's unavoidable part on this machine.
inline constexpr size_t kSegmentSize = 32 * 1024;
// A pull request (PULL_DATA_REQ is about this size).
inline constexpr size_t kRequestSize = 64;

struct FloorOptions {
  uint64_t segments = 8192;
  uint32_t window = 8;    // requests in flight, as a receiver pulls
  std::string dir = ".";  // where the upload and download paths put their files
  // Leave those files behind: on ext4 without a journal, a run that creates
  // its files among inodes freed in the last minutes pays for each of them.
  bool keep_files = false;
};

struct FloorResult {
  uint64_t segments = 0;
  double server_cpu_seconds = 0;  // the thread playing the server
  double peer_cpu_seconds = 0;    // the threads playing the clients
  double wall_seconds = 0;
};

// Receives each segment into a 1 MiB page-aligned buffer, answers it with a
// request for the next, and writes every 1 MiB as a file of its own with one
// O_DIRECT write and fdatasync: an offline upload made durable.
FloorResult upload_direct(const FloorOptions& options);
// Answers each request with a segment of a file on disk: read eight
// segments at a time with O_DIRECT and written to the socket (a copy), or
// sent from the page cache with sendfile (no copy).
FloorResult download_copy(const FloorOptions& options);
FloorResult download_sendfile(const FloorOptions& options);
// Forwards each request from the receiver to the sender, and the segment
// back: read and written (two copies), or spliced through a pipe (none).
FloorResult relay_copy(const FloorOptions& options);
FloorResult relay_splice(const FloorOptions& options);

}  // namespace ttfs::floor
