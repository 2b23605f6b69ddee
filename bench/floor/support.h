#pragma once

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "floors.h"
#include "loopback.h"

namespace ttfs::floor {

// The server thread's CPU and the wall time from construction to finish().
class ServerClock {
 public:
  ServerClock() : cpu_start_(thread_cpu_seconds()), wall_start_(std::chrono::steady_clock::now()) {}

  FloorResult finish(uint64_t segments) const {
    FloorResult result;
    result.segments = segments;
    result.server_cpu_seconds = thread_cpu_seconds() - cpu_start_;
    result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start_).count();
    return result;
  }

 private:
  double cpu_start_;
  std::chrono::steady_clock::time_point wall_start_;
};

// Page-aligned memory, as O_DIRECT needs it.
struct FreeDeleter {
  void operator()(char* p) const { std::free(p); }
};
using AlignedBuffer = std::unique_ptr<char[], FreeDeleter>;
inline AlignedBuffer aligned_buffer(size_t size, char fill) {
  AlignedBuffer buffer(static_cast<char*>(std::aligned_alloc(4096, size)));
  if (!buffer) throw std::bad_alloc();
  std::fill_n(buffer.get(), size, fill);
  return buffer;
}

// The files a run made, removed when it ends, however it ends, unless
// they are to be kept.
class ScratchFiles {
 public:
  explicit ScratchFiles(bool keep) : keep_(keep) {}
  ScratchFiles(const ScratchFiles&) = delete;
  ScratchFiles& operator=(const ScratchFiles&) = delete;
  ~ScratchFiles() {
    if (keep_) return;
    for (const std::string& path : paths_) ::unlink(path.c_str());
  }
  // Returns the path, to be used at once.
  std::string add(std::string path) {
    paths_.push_back(path);
    return path;
  }

 private:
  bool keep_;
  std::vector<std::string> paths_;
};

}  // namespace ttfs::floor
