#include "server/fd_limit.h"

#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ttfs::server {

namespace {

constexpr uint64_t kUnlimited = UINT64_MAX;
constexpr uint64_t kDescriptorsPerIoThread = 8;  // epoll, eventfd, listeners
constexpr uint64_t kServerReserve = 256;         // store, logs, the odd file

uint64_t from_rlim(rlim_t value) {
  return value == RLIM_INFINITY ? kUnlimited : static_cast<uint64_t>(value);
}

}  // namespace

uint64_t descriptors_needed(const Config& config) {
  const auto& limits = config.io.connection_limits;
  return 2 * static_cast<uint64_t>(limits.max_client_connections) +
         limits.max_msg_server_connections + kDescriptorsPerIoThread * config.io_threads +
         kServerReserve;
}

FdLimitPlan plan_fd_limit(uint64_t soft, uint64_t hard, uint64_t needed) {
  FdLimitPlan plan;
  // An unlimited hard limit cannot be the soft one (the kernel caps it at
  // fs.nr_open), so then only what is needed is asked for.
  const uint64_t target = hard == kUnlimited ? std::max(soft, needed) : hard;
  plan.raise_soft_to = target > soft ? target : 0;
  plan.expected = std::max(soft, target);
  plan.too_low = plan.expected < needed;
  return plan;
}

std::string fd_limit_warning(uint64_t limit, uint64_t hard, uint64_t needed) {
  return "the file-descriptor limit is " + std::to_string(limit) + " (hard limit " +
         (hard == kUnlimited ? std::string("unlimited") : std::to_string(hard)) +
         "), but MaxConnections and MaxMsgServerConnections need about " + std::to_string(needed) +
         ": past it, connections wait in the listen backlog (accept fails with EMFILE) and "
         "uploads cannot open their files. Raise it to " +
         std::to_string(needed) + " (`ulimit -n " + std::to_string(needed) +
         "` in the shell that starts ttfsd, LimitNOFILE=" + std::to_string(needed) +
         " in its systemd unit, or nofile in /etc/security/limits.conf), or lower MaxConnections";
}

void raise_fd_limit(const Config& config) {
  const uint64_t needed = descriptors_needed(config);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  const FdLimitPlan plan =
      plan_fd_limit(from_rlim(limit.rlim_cur), from_rlim(limit.rlim_max), needed);
  if (plan.raise_soft_to != 0) {
    rlimit raised = limit;
    raised.rlim_cur = static_cast<rlim_t>(plan.raise_soft_to);
    if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
      spdlog::warn("cannot raise the file-descriptor limit from {} to {}: {}", limit.rlim_cur,
                   plan.raise_soft_to, std::strerror(errno));
    }
    ::getrlimit(RLIMIT_NOFILE, &limit);
  }
  const uint64_t now = from_rlim(limit.rlim_cur);
  if (now < needed) {
    spdlog::warn("{}", fd_limit_warning(now, from_rlim(limit.rlim_max), needed));
  } else {
    spdlog::info("file-descriptor limit: {} (about {} needed)", now, needed);
  }
}

}  // namespace ttfs::server
