#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <system_error>
#include <vector>

#include "floors.h"
#include "loopback.h"
#include "peer_thread.h"
#include "peers.h"
#include "support.h"

namespace ttfs::floor {
namespace {

constexpr uint64_t kSegmentsPerRead = 8;  // ttfsd's read-ahead depth

// A stored file of `segments` segments, on disk and out of the page cache,
// as a download that was uploaded a while ago finds it.
void store_cold_file(const std::string& path, uint64_t segments) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  const std::vector<char> segment(kSegmentSize, 'd');
  for (uint64_t i = 0; i < segments; ++i) write_all(file.get(), segment.data(), segment.size());
  if (::fsync(file.get()) != 0) throw std::system_error(errno, std::generic_category(), "fsync");
  ::posix_fadvise(file.get(), 0, 0, POSIX_FADV_DONTNEED);
}

template <typename SendSegment>
FloorResult serve_download(const FloorOptions& options, int open_flags, SendSegment send_segment) {
  const uint64_t segments = options.segments;
  ScratchFiles scratch(options.keep_files);
  const std::string path = scratch.add(options.dir + "/ttfs-floor-download");
  store_cold_file(path, segments);
  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | open_flags));
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  SocketPair link = connect_over_loopback();
  PeerThread receiver({link.peer_end.get()},
                      [&] { pull_segments(link.peer_end.get(), segments, options.window); });

  const ServerClock clock;
  char request[kRequestSize];
  for (uint64_t i = 0; i < segments; ++i) {
    read_exact(link.server_end.get(), request, sizeof request);
    send_segment(link.server_end.get(), file.get(), i);
  }
  FloorResult result = clock.finish(segments);
  result.peer_cpu_seconds = receiver.join();
  return result;
}

}  // namespace

FloorResult download_copy(const FloorOptions& options) {
  const AlignedBuffer batch = aligned_buffer(kSegmentsPerRead * kSegmentSize, 0);
  return serve_download(options, O_DIRECT, [&](int socket, int file, uint64_t segment) {
    const uint64_t in_batch = segment % kSegmentsPerRead;
    if (in_batch == 0) {
      const uint64_t count = std::min(kSegmentsPerRead, options.segments - segment);
      const auto offset = static_cast<off_t>(segment * kSegmentSize);
      const ssize_t n = ::pread(file, batch.get(), count * kSegmentSize, offset);
      if (n != static_cast<ssize_t>(count * kSegmentSize))
        throw std::system_error(errno, std::generic_category(), "O_DIRECT read");
    }
    write_all(socket, batch.get() + in_batch * kSegmentSize, kSegmentSize);
  });
}

FloorResult download_sendfile(const FloorOptions& options) {
  return serve_download(options, 0, [](int socket, int file, uint64_t segment) {
    sendfile_exact(socket, file, static_cast<off_t>(segment * kSegmentSize), kSegmentSize);
  });
}

}  // namespace ttfs::floor
