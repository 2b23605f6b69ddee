#pragma once

#include <cstdint>
#include <optional>

#include "options.h"
#include "stats.h"

namespace ttfs::load {

// The measured phase's figures beside the CPU and memory readings around it.
struct Measurement {
  ThreadStats stats;
  double seconds = 0;  // first transfer asked to last transfer ended
  uint64_t peak_connections = 0;
  double client_cpu_s = 0;
  std::optional<double> server_cpu_s;
  std::optional<uint64_t> server_peak_rss_kb;
};

// Prints the human-readable report, then the one RESULT line that scripts
// read. Returns the process exit code: 0 only when every transfer finished
// and no byte differed.
int report(const Options& options, Measurement& m);

}  // namespace ttfs::load
