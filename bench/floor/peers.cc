#include "peers.h"

#include <algorithm>
#include <vector>

#include "floors.h"
#include "loopback.h"

namespace ttfs::floor {

void pull_segments(int socket, uint64_t segments, uint32_t window) {
  std::vector<char> segment(kSegmentSize);
  const char request[kRequestSize] = {};
  uint64_t requested = std::min<uint64_t>(window, segments);
  for (uint64_t i = 0; i < requested; ++i) write_all(socket, request, sizeof request);
  for (uint64_t i = 0; i < segments; ++i) {
    read_exact(socket, segment.data(), segment.size());
    if (requested < segments) {
      write_all(socket, request, sizeof request);
      ++requested;
    }
  }
}

void answer_pulls(int socket, uint64_t segments, char fill) {
  const std::vector<char> segment(kSegmentSize, fill);
  char request[kRequestSize];
  for (uint64_t i = 0; i < segments; ++i) {
    read_exact(socket, request, sizeof request);
    write_all(socket, segment.data(), segment.size());
  }
}

}  // namespace ttfs::floor
