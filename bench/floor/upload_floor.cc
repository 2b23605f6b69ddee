#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <system_error>

#include "floors.h"
#include "loopback.h"
#include "peer_thread.h"
#include "peers.h"
#include "support.h"

namespace ttfs::floor {
namespace {

constexpr size_t kFileSize = 1024 * 1024;
constexpr uint64_t kSegmentsPerFile = kFileSize / kSegmentSize;

void write_file_durably(const std::string& path, const char* data) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT | O_CLOEXEC, 0644));
  if (!file) throw std::system_error(errno, std::generic_category(), "open " + path);
  for (size_t done = 0; done < kFileSize;) {
    const ssize_t n = ::pwrite(file.get(), data + done, kFileSize - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::system_error(errno, std::generic_category(), "O_DIRECT write " + path);
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(file.get()) != 0)
    throw std::system_error(errno, std::generic_category(), "fdatasync " + path);
}

}  // namespace

FloorResult upload_direct(const FloorOptions& options) {
  const uint64_t files = std::max<uint64_t>(1, options.segments / kSegmentsPerFile);
  const uint64_t segments = files * kSegmentsPerFile;
  SocketPair link = connect_over_loopback();
  PeerThread sender({link.peer_end.get()},
                    [&] { answer_pulls(link.peer_end.get(), segments, 'u'); });
  const AlignedBuffer file_data = aligned_buffer(kFileSize, 0);
  const char request[kRequestSize] = {};
  ScratchFiles written(options.keep_files);

  const ServerClock clock;
  uint64_t requested = std::min<uint64_t>(options.window, segments);
  for (uint64_t i = 0; i < requested; ++i) write_all(link.server_end.get(), request, kRequestSize);
  for (uint64_t f = 0; f < files; ++f) {
    for (uint64_t s = 0; s < kSegmentsPerFile; ++s) {
      read_exact(link.server_end.get(), file_data.get() + s * kSegmentSize, kSegmentSize);
      if (requested < segments) {
        write_all(link.server_end.get(), request, kRequestSize);
        ++requested;
      }
    }
    write_file_durably(written.add(options.dir + "/ttfs-floor-upload." + std::to_string(f)),
                       file_data.get());
  }
  FloorResult result = clock.finish(segments);

  result.peer_cpu_seconds = sender.join();
  return result;
}

}  // namespace ttfs::floor
