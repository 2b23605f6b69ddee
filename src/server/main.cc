// ttfsd: the daemon. Reads its configuration, starts the server, prints the
// ports it listens on, and runs until SIGINT or SIGTERM, on which it stops
// gracefully (graceful_stop.h).

#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "server/config.h"
#include "server/fd_limit.h"
#include "server/graceful_stop.h"
#include "server/server.h"

int main(int argc, char** argv) {
  ttfs::server::Config config;
  int exit_code = 0;
  if (!ttfs::server::parse_command_line(argc, argv, config, exit_code)) return exit_code;

  const auto level = spdlog::level::from_str(config.log_level);
  if (level == spdlog::level::off && config.log_level != "off") {
    std::fprintf(stderr, "ttfsd: unknown log level '%s'\n", config.log_level.c_str());
    return 2;
  }
  spdlog::set_level(level);
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");

  // Signals are taken synchronously by this thread only; every thread the
  // server starts inherits the blocked mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  ttfs::server::resolve_defaults(config);
  ttfs::server::raise_fd_limit(config);

  ttfs::server::Server server(config);
  try {
    server.start();
  } catch (const std::exception& e) {
    spdlog::critical("cannot start: {}", e.what());
    return 1;
  }
  // One line a test or a script can read to find the ports chosen for 0.
  std::printf("ttfsd listening: client port %u, msg-server port %u\n", server.client_port(),
              server.msg_server_port());
  std::fflush(stdout);

  // A line of counters a minute while there is traffic; a signal ends it.
  const timespec interval{60, 0};
  ttfs::server::ServerStats last{};
  int received = -1;
  while (received < 0) {
    received = sigtimedwait(&signals, nullptr, &interval);
    const ttfs::server::ServerStats now = server.stats();
    const bool connects_seen =
        now.connections_accepted != last.connections_accepted ||
        now.refused_over_max_connections != last.refused_over_max_connections ||
        now.refused_over_per_ip != last.refused_over_per_ip;
    if (received < 0 && connects_seen) {
      spdlog::info(
          "stats: {} connections open ({} accepted), {} tasks live ({} created, {} "
          "transferring), {} uploads complete, segments {} stored / {} served / {} relayed, {} "
          "refusals, {} protocol errors",
          now.connections_open, now.connections_accepted, now.tasks_live, now.tasks_created,
          now.transfers_in_flight, now.uploads_completed, now.segments_stored, now.segments_served,
          now.segments_relayed, now.refusals, now.protocol_errors);
      spdlog::info(
          "limits: connections refused {} over MaxConnections / {} over MaxConnectionsPerIp; "
          "closed {} idle / {} without login (LoginTimeout) / {} mid-PDU (FrameTimeout); tasks "
          "refused {} over MaxTasks / {} over MaxTasksPerUser / {} over MaxFileSize",
          now.refused_over_max_connections, now.refused_over_per_ip, now.idle_timeouts,
          now.login_timeouts, now.frame_timeouts, now.tasks_refused_over_max_tasks,
          now.tasks_refused_over_per_user, now.tasks_refused_file_size);
    }
    last = now;
  }
  return ttfs::server::stop_gracefully(server, signals, received, config.shutdown_grace,
                                       config.shutdown_timeout);
}
