#pragma once

#include <cstdint>
#include <string>

#include "server/config.h"

namespace ttfs::server {

// The descriptors the configured bounds can use at once: a socket per
// connection on both ports, a store file for each client connection (an
// upload's data file or a download's reader), and the server's own
// (listeners, epoll and eventfd per IO thread, the store's directories, logs).
uint64_t descriptors_needed(const Config& config);

// What to do with RLIMIT_NOFILE at start-up, decided from its soft and hard
// values (RLIM_INFINITY as UINT64_MAX) and the need: raise the soft limit
// as far as the hard one allows, and say so when that is still too low.
struct FdLimitPlan {
  uint64_t raise_soft_to = 0;  // 0: leave it as it is
  uint64_t expected = 0;       // the soft limit once raised
  bool too_low = false;
};
FdLimitPlan plan_fd_limit(uint64_t soft, uint64_t hard, uint64_t needed);

// The warning for a limit that is too low: the numbers, and what to do.
std::string fd_limit_warning(uint64_t limit, uint64_t hard, uint64_t needed);

// Applies plan_fd_limit() to this process and logs the outcome: a warning
// naming the numbers when the limit stays below the need.
void raise_fd_limit(const Config& config);

}  // namespace ttfs::server
