#include "scale_run.h"

#include <arpa/inet.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "held_connections.h"
#include "pattern.h"
#include "proc_stats.h"
#include "run_phase.h"

namespace ttfs::load {

namespace {

// ttfsd gives a connection's input block back after 2 s without input; the
// held figure is taken once that has happened to every held connection.
constexpr auto kQuietBeforeMeasuring = std::chrono::seconds(3);

struct PhaseRun {
  Phase phase;
  ThreadStats stats;
  std::string error;
  bool started = false;
  double seconds = 0;
};

std::string failure_list(const ThreadStats& s) {
  std::string list;
  for (size_t i = 1; i < s.failures.size(); ++i) {
    if (s.failures[i] == 0) continue;
    if (!list.empty()) list += ',';
    list += failure_name(static_cast<Failure>(i));
    list += ':' + std::to_string(s.failures[i]);
  }
  return list.empty() ? "none" : list;
}

}  // namespace

int run_scale(const Options& o) {
  if (o.server_pid <= 0) {
    std::fprintf(stderr, "ttfs-load: scale needs --server-pid to read the server's memory\n");
    return 2;
  }
  const int pid = o.server_pid;
  const auto rss = [pid] { return process_rss_kb(pid).value_or(0); };
  const Pattern pattern(o.seed);
  in_addr addr{};
  ::inet_pton(AF_INET, o.server.c_str(), &addr);

  const uint64_t rss_idle = rss();
  const double cpu_start = process_cpu_seconds(pid).value_or(0);
  HeldConnections held;
  HoldPlan plan;
  plan.count = o.hold;
  std::string error;
  const auto open_start = Clock::now();
  if (!held.open(addr.s_addr, o.client_port, o.msg_port, plan, error)) {
    std::fprintf(stderr, "ttfs-load: %s\n", error.c_str());
    return 1;
  }
  const double open_s = std::chrono::duration<double>(Clock::now() - open_start).count();
  held.start();
  std::this_thread::sleep_for(kQuietBeforeMeasuring);
  const uint64_t rss_held = rss();
  const double cpu_held = process_cpu_seconds(pid).value_or(0);

  // Transfers while they are held: offline round trips and online relays at once.
  const Clock::time_point deadline =
      o.duration_limit_s > 0 ? Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                                  std::chrono::duration<double>(o.duration_limit_s))
                             : Clock::time_point::max();
  PhaseRun runs[2];
  const Mode modes[2] = {Mode::kRoundtrip, Mode::kOnline};
  for (int i = 0; i < 2; ++i) {
    Phase& p = runs[i].phase;
    p.mode = modes[i];
    p.options = &o;
    p.pattern = &pattern;
    p.server_ip_be = addr.s_addr;
    p.transfers = o.transfers;
    p.deadline = deadline;
  }
  std::atomic<bool> running{true};
  std::atomic<uint64_t> rss_peak{rss_held};
  std::thread sampler([&] {
    while (running) {
      rss_peak = std::max(rss_peak.load(), rss());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  const auto start = Clock::now();
  std::thread other([&] {
    runs[1].started =
        run_phase(runs[1].phase, o.threads, o.concurrency, runs[1].stats, runs[1].error);
    runs[1].seconds = std::chrono::duration<double>(Clock::now() - start).count();
  });
  runs[0].started =
      run_phase(runs[0].phase, o.threads, o.concurrency, runs[0].stats, runs[0].error);
  runs[0].seconds = std::chrono::duration<double>(Clock::now() - start).count();
  other.join();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  running = false;
  sampler.join();
  const double cpu_end = process_cpu_seconds(pid).value_or(0);
  const uint64_t rss_end = rss();
  held.stop();

  const auto per_conn = [&](uint64_t kib) {
    return kib > rss_idle ? static_cast<double>(kib - rss_idle) * 1024.0 / o.hold : 0.0;
  };
  std::printf(
      "ttfs-load scale: %u connections held (%llu on the msg-server port, %llu logged in "
      "as waiting online senders), opened in %.2f s\n",
      o.hold, static_cast<unsigned long long>(held.on_msg_port()),
      static_cast<unsigned long long>(held.logged_in()), open_s);
  std::printf(
      "  server RSS: idle %.1f MiB, holding them %.1f MiB (%.0f bytes per connection), "
      "peak while transferring %.1f MiB, after %.1f MiB\n",
      rss_idle / 1024.0, rss_held / 1024.0, per_conn(rss_held), rss_peak / 1024.0,
      rss_end / 1024.0);
  bool all_ok = true;
  uint64_t ok = 0, failed = 0, mismatches = 0, bytes = 0;
  for (PhaseRun& r : runs) {
    const ThreadStats& s = r.stats;
    if (!r.started) {
      std::fprintf(stderr, "ttfs-load: %s: %s\n", mode_name(r.phase.mode), r.error.c_str());
      all_ok = false;
      continue;
    }
    const double mb_per_s = r.seconds > 0 ? s.counters.payload_bytes / 1e6 / r.seconds : 0;
    std::printf(
        "  meanwhile %s: %llu of %llu ok, %llu failed (%s), %llu mismatched segments, "
        "%.1f MB/s of payload over %.2f s\n",
        mode_name(r.phase.mode), static_cast<unsigned long long>(s.ok),
        static_cast<unsigned long long>(o.transfers), static_cast<unsigned long long>(s.failed),
        failure_list(s).c_str(), static_cast<unsigned long long>(s.counters.mismatched_segments),
        mb_per_s, r.seconds);
    all_ok = all_ok && s.ok == o.transfers && s.failed == 0 && s.counters.mismatched_segments == 0;
    ok += s.ok;
    failed += s.failed + (o.transfers - std::min<uint64_t>(o.transfers, s.ok + s.failed));
    mismatches += s.counters.mismatched_segments;
    bytes += s.counters.payload_bytes;
  }
  std::printf("  held connections the server closed: %llu; heartbeats sent %llu\n",
              static_cast<unsigned long long>(held.lost()),
              static_cast<unsigned long long>(held.heartbeats_sent()));
  std::printf("  server CPU: %.2f s opening and holding, %.2f s over the %.2f s of transfers\n",
              cpu_held - cpu_start, cpu_end - cpu_held, seconds);
  all_ok = all_ok && held.lost() == 0;
  std::printf(
      "RESULT mode=scale connections=%u rss_idle_kb=%llu rss_held_kb=%llu "
      "rss_per_connection_bytes=%.0f rss_peak_kb=%llu rss_end_kb=%llu open_s=%.2f "
      "transfers=%llu ok=%llu failed=%llu mismatches=%llu seconds=%.3f mb_per_s=%.1f "
      "server_cpu_hold_s=%.2f server_cpu_transfer_s=%.2f held_lost=%llu concurrency=%u "
      "file_size=%llu\n",
      o.hold, static_cast<unsigned long long>(rss_idle), static_cast<unsigned long long>(rss_held),
      per_conn(rss_held), static_cast<unsigned long long>(rss_peak.load()),
      static_cast<unsigned long long>(rss_end), open_s,
      static_cast<unsigned long long>(2 * o.transfers), static_cast<unsigned long long>(ok),
      static_cast<unsigned long long>(failed), static_cast<unsigned long long>(mismatches), seconds,
      seconds > 0 ? bytes / 1e6 / seconds : 0.0, cpu_held - cpu_start, cpu_end - cpu_held,
      static_cast<unsigned long long>(held.lost()), o.concurrency,
      static_cast<unsigned long long>(o.file_size));
  return all_ok ? 0 : 1;
}

}  // namespace ttfs::load
