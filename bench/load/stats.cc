#include "stats.h"

#include <algorithm>

namespace ttfs::load {

Percentiles percentiles(std::vector<uint64_t>& micros) {
  Percentiles p;
  if (micros.empty()) return p;
  std::sort(micros.begin(), micros.end());
  // Nearest rank: the smallest value with at least q of the sample at or below it.
  const auto rank = [&](double q) {
    const auto n = static_cast<double>(micros.size());
    size_t i = static_cast<size_t>(q * n + 0.999999);
    i = std::clamp<size_t>(i, 1, micros.size());
    return static_cast<double>(micros[i - 1]) / 1000.0;
  };
  p.p50_ms = rank(0.50);
  p.p99_ms = rank(0.99);
  p.max_ms = static_cast<double>(micros.back()) / 1000.0;
  return p;
}

ThreadStats merge(std::vector<ThreadStats>& parts) {
  ThreadStats all;
  for (ThreadStats& t : parts) {
    all.counters.segments += t.counters.segments;
    all.counters.payload_bytes += t.counters.payload_bytes;
    all.counters.mismatched_segments += t.counters.mismatched_segments;
    all.ok += t.ok;
    all.failed += t.failed;
    for (size_t i = 0; i < all.failures.size(); ++i) {
      all.failures[i] += t.failures[i];
      if (all.first_errno[i] == 0) all.first_errno[i] = t.first_errno[i];
    }
    all.transfer_us.insert(all.transfer_us.end(), t.transfer_us.begin(), t.transfer_us.end());
    all.create_us.insert(all.create_us.end(), t.create_us.begin(), t.create_us.end());
    all.last_finish = std::max(all.last_finish, t.last_finish);
  }
  return all;
}

}  // namespace ttfs::load
