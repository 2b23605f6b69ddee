#include "server/graceful_stop.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>

#include "server/watchdog.h"

namespace ttfs::server {

namespace {

// How often the wait looks at the count of transfers in flight: a finished
// transfer holds the exit up by at most this.
constexpr auto kPollInterval = std::chrono::milliseconds(50);

const char* signal_name(int signal) { return signal == SIGINT ? "SIGINT" : "SIGTERM"; }

// Serves on until nothing is in flight, the grace is over, or a signal
// says not to wait.
void wait_for_transfers(Server& server, const sigset_t& signals, std::chrono::seconds grace) {
  const auto deadline = std::chrono::steady_clock::now() + grace;
  uint64_t in_flight = server.transfers_in_flight();
  if (in_flight == 0) return;
  spdlog::info("ttfsd: waiting up to {} s for {} transfer(s) in flight", grace.count(), in_flight);
  const timespec poll{0, std::chrono::nanoseconds(kPollInterval).count()};
  for (;;) {
    const int received = sigtimedwait(&signals, nullptr, &poll);
    in_flight = server.transfers_in_flight();
    if (in_flight == 0) {
      spdlog::info("ttfsd: every transfer in flight has finished");
      return;
    }
    if (received > 0) {
      spdlog::warn("ttfsd: {} received again; cutting {} transfer(s) in flight",
                   signal_name(received), in_flight);
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      spdlog::warn(
          "ttfsd: grace period over; cutting {} transfer(s) in flight (unfinished uploads resume "
          "after the restart)",
          in_flight);
      return;
    }
  }
}

}  // namespace

int stop_gracefully(Server& server, const sigset_t& signals, int first_signal,
                    std::chrono::seconds grace, std::chrono::seconds timeout) {
  const auto limit = grace + timeout;
  Watchdog watchdog(limit, [limit] {
    spdlog::critical("ttfsd: the stop did not finish within {} s; exiting without it",
                     std::chrono::duration_cast<std::chrono::seconds>(limit).count());
    spdlog::default_logger()->flush();
    std::fflush(nullptr);
    // Not exit(): the threads still stopping own what static destructors
    // would tear down under them.
    std::_Exit(kExitStopTimedOut);
  });
  server.stop_accepting();
  spdlog::info("ttfsd: {} received; no longer accepting connections", signal_name(first_signal));
  if (grace.count() > 0) wait_for_transfers(server, signals, grace);
  server.stop();
  return 0;
}

}  // namespace ttfs::server
