// ttfs-load: the end-to-end load harness. Thousands of simulated TeamTalk
// file clients on a few epoll threads against any server that speaks the
// protocol, so ttfsd and TeamTalk's original file_server can be measured
// with the same tool in the same run.

#include <arpa/inet.h>
#include <signal.h>
#include <sys/resource.h>

#include <cstdio>
#include <string>
#include <vector>

#include "client_thread.h"
#include "options.h"
#include "pattern.h"
#include "proc_stats.h"
#include "report.h"
#include "run_phase.h"
#include "scale_run.h"

namespace ttfs::load {
namespace {

// Each connection is a descriptor, and finished ones linger for
// --close-wait: ask for twice what the slots need.
void raise_fd_limit(const Options& o) {
  // A scale run holds its connections and runs round trips and relays.
  const uint64_t per_transfer = o.mode == Mode::kOnline ? 2 : o.mode == Mode::kScale ? 3 : 1;
  const uint64_t held = o.mode == Mode::kScale ? o.hold : 0;
  const rlim_t need =
      static_cast<rlim_t>(held + 2 * per_transfer * o.concurrency + 8 * o.threads + 64);
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < need) limit.rlim_max = need;
  limit.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
    // Not privileged: take the hard limit as it is.
    ::getrlimit(RLIMIT_NOFILE, &limit);
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
  ::getrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < need) {
    std::fprintf(stderr, "ttfs-load: warning: %llu file descriptors allowed, %llu wanted\n",
                 static_cast<unsigned long long>(limit.rlim_cur),
                 static_cast<unsigned long long>(need));
  }
}

int run(const Options& o) {
  ::signal(SIGPIPE, SIG_IGN);  // writev has no MSG_NOSIGNAL
  raise_fd_limit(o);
  if (o.mode == Mode::kScale) return run_scale(o);
  const Pattern pattern(o.seed);
  in_addr addr{};
  ::inet_pton(AF_INET, o.server.c_str(), &addr);
  const Clock::time_point deadline =
      o.duration_limit_s > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.duration_limit_s))
                             : Clock::time_point::max();
  std::string error;

  // Download mode measures downloads only: the files come from an upload
  // phase first, with the same concurrency, that is not measured.
  std::vector<std::string> task_ids;
  if (o.mode == Mode::kDownload) {
    task_ids.resize(o.transfers);
    Phase setup;
    setup.mode = Mode::kUpload;
    setup.options = &o;
    setup.pattern = &pattern;
    setup.server_ip_be = addr.s_addr;
    setup.transfers = o.transfers;
    setup.task_ids = &task_ids;
    setup.deadline = deadline;
    ThreadStats uploaded;
    const auto start = Clock::now();
    if (!run_phase(setup, o.threads, o.concurrency, uploaded, error)) {
      std::fprintf(stderr, "ttfs-load: %s\n", error.c_str());
      return 2;
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    std::printf("setup: uploaded %llu of %llu files in %.2f s (not measured)\n",
                static_cast<unsigned long long>(uploaded.ok),
                static_cast<unsigned long long>(o.transfers), secs);
    if (uploaded.ok != o.transfers) {
      std::fprintf(stderr, "ttfs-load: the setup uploads failed (%llu); nothing to download\n",
                   static_cast<unsigned long long>(uploaded.failed));
      return 1;
    }
  }

  Phase phase;
  phase.mode = o.mode;
  phase.options = &o;
  phase.pattern = &pattern;
  phase.server_ip_be = addr.s_addr;
  phase.transfers = o.transfers;
  phase.task_ids = o.mode == Mode::kDownload ? &task_ids : nullptr;
  phase.deadline = deadline;

  Measurement m;
  const std::optional<double> server_cpu_before =
      o.server_pid > 0 ? process_cpu_seconds(o.server_pid) : std::nullopt;
  const double client_cpu_before = self_cpu_seconds();
  const auto start = Clock::now();
  if (!run_phase(phase, o.threads, o.concurrency, m.stats, error)) {
    std::fprintf(stderr, "ttfs-load: %s\n", error.c_str());
    return 2;
  }
  const auto end = m.stats.last_finish > start ? m.stats.last_finish : Clock::now();
  m.seconds = std::chrono::duration<double>(end - start).count();
  m.peak_connections = phase.peak_connections.load();
  m.client_cpu_s = self_cpu_seconds() - client_cpu_before;
  if (o.server_pid > 0) {
    const std::optional<double> server_cpu_after = process_cpu_seconds(o.server_pid);
    if (server_cpu_before && server_cpu_after) {
      m.server_cpu_s = *server_cpu_after - *server_cpu_before;
    }
    m.server_peak_rss_kb = process_peak_rss_kb(o.server_pid);
    if (!m.server_cpu_s) {
      std::fprintf(stderr, "ttfs-load: warning: cannot read /proc/%d\n", o.server_pid);
    }
  }
  return report(o, m);
}

}  // namespace
}  // namespace ttfs::load

int main(int argc, char** argv) {
  ttfs::load::Options options;
  int exit_code = 0;
  if (!ttfs::load::parse_options(argc, argv, options, exit_code)) return exit_code;
  return ttfs::load::run(options);
}
