#pragma once

#include <cstdint>

namespace ttfs::floor {

// What the clients of a floor run do, each on its peer thread.

// A receiver: keeps `window` requests in flight and reads every segment.
void pull_segments(int socket, uint64_t segments, uint32_t window);
// A sender: answers each request with a segment of `fill` bytes.
void answer_pulls(int socket, uint64_t segments, char fill);

}  // namespace ttfs::floor
