#pragma once

#include <sys/types.h>

#include <cstdint>
#include <fstream>
#include <string>

namespace ttfs::testing {

// A process's resident set, from /proc/PID/status (VmRSS), in KiB; 0 if it
// cannot be read (the process is gone).
inline uint64_t rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

// Bytes a process has read with read(2) and its kin, files and sockets alike
// (/proc/PID/io rchar): it stops growing when the process reads nothing.
inline uint64_t bytes_read_by(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/io");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("rchar:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

inline double mib(uint64_t kib) { return static_cast<double>(kib) / 1024.0; }

}  // namespace ttfs::testing
