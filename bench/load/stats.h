#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

#include "peer.h"

namespace ttfs::load {

using Clock = std::chrono::steady_clock;

// What one client thread measured; threads fill their own and the phase
// sums them when they have all stopped, so nothing here is shared.
struct ThreadStats {
  Counters counters;
  uint64_t ok = 0;
  uint64_t failed = 0;
  std::array<uint64_t, static_cast<size_t>(Failure::kCount)> failures{};
  std::vector<uint64_t> transfer_us;  // connect to DONE, successful transfers
  std::vector<uint64_t> create_us;    // FILE_TRANSFER_REQ to its reply
  Clock::time_point last_finish{};    // the last transfer that ended, either way

  // The errno of the first socket-level failure of each kind, to name it.
  std::array<int, static_cast<size_t>(Failure::kCount)> first_errno{};

  void record_failure(Failure failure, int error) {
    ++failed;
    ++failures[static_cast<size_t>(failure)];
    int& first = first_errno[static_cast<size_t>(failure)];
    if (first == 0) first = error;
  }
};

// Exact percentiles of a sample (sorted in place); 0 for an empty one.
struct Percentiles {
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};
Percentiles percentiles(std::vector<uint64_t>& micros);

// Every thread's figures summed.
ThreadStats merge(std::vector<ThreadStats>& parts);

}  // namespace ttfs::load
