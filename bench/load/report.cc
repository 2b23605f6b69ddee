#include "report.h"

#include <cstdio>
#include <cstring>
#include <string>

namespace ttfs::load {

namespace {

std::string or_na(const std::optional<double>& v, const char* format) {
  if (!v) return "na";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

}  // namespace

int report(const Options& o, Measurement& m) {
  ThreadStats& s = m.stats;
  const double secs = m.seconds > 0 ? m.seconds : 1e-9;
  const auto segments = static_cast<double>(s.counters.segments);
  const double seg_per_s = segments / secs;
  const double mb_per_s = static_cast<double>(s.counters.payload_bytes) / 1e6 / secs;
  const double transfers_per_s = static_cast<double>(s.ok) / secs;
  const Percentiles t = percentiles(s.transfer_us);
  const Percentiles c = percentiles(s.create_us);
  const uint64_t not_started = o.transfers - s.ok - s.failed;

  std::string failures;
  for (size_t i = 0; i < s.failures.size(); ++i) {
    if (s.failures[i] == 0) continue;
    if (!failures.empty()) failures += ',';
    failures += failure_name(static_cast<Failure>(i));
    failures += ':' + std::to_string(s.failures[i]);
    if (s.first_errno[i] != 0) {
      const char* name = ::strerrorname_np(s.first_errno[i]);
      failures += std::string("(first ") + (name != nullptr ? name : "?") + ")";
    }
  }
  if (failures.empty()) failures = "none";

  // Download phases create no tasks: their files come from the setup phase.
  const bool created = !s.create_us.empty();
  const std::string create_p50 = or_na(created ? std::optional(c.p50_ms) : std::nullopt, "%.2f");
  const std::string create_p99 = or_na(created ? std::optional(c.p99_ms) : std::nullopt, "%.2f");
  std::optional<double> server_us_per_segment;
  if (m.server_cpu_s && segments > 0) server_us_per_segment = *m.server_cpu_s * 1e6 / segments;
  const double client_us_per_segment = segments > 0 ? m.client_cpu_s * 1e6 / segments : 0;

  std::printf(
      "ttfs-load %s: %llu transfers of %llu bytes, concurrency %u, %u thread(s), window %u\n",
      mode_name(o.mode), static_cast<unsigned long long>(o.transfers),
      static_cast<unsigned long long>(o.file_size), o.concurrency, o.threads, o.window);
  std::printf("  ok %llu, failed %llu (%s), not started %llu, content mismatches %llu\n",
              static_cast<unsigned long long>(s.ok), static_cast<unsigned long long>(s.failed),
              failures.c_str(), static_cast<unsigned long long>(not_started),
              static_cast<unsigned long long>(s.counters.mismatched_segments));
  std::printf("  peak client connections open at once: %llu\n",
              static_cast<unsigned long long>(m.peak_connections));
  std::printf(
      "  %.3f s: %.0f segments/s, %.1f MB/s of payload (MB = 10^6 bytes), %.1f transfers/s\n", secs,
      seg_per_s, mb_per_s, transfers_per_s);
  std::printf("  transfer time, connect to DONE: p50 %.2f ms, p99 %.2f ms, max %.2f ms\n", t.p50_ms,
              t.p99_ms, t.max_ms);
  if (!s.create_us.empty()) {
    std::printf(
        "  task creation, FILE_TRANSFER_REQ to RSP (not in transfer time): p50 %.2f ms, p99 %.2f "
        "ms, max %.2f ms over %zu\n",
        c.p50_ms, c.p99_ms, c.max_ms, s.create_us.size());
  }
  std::printf(
      "  CPU: harness %.2f s (%.2f us/segment), server %s s (%s us/segment), server peak "
      "RSS %s KiB\n",
      m.client_cpu_s, client_us_per_segment, or_na(m.server_cpu_s, "%.2f").c_str(),
      or_na(server_us_per_segment, "%.2f").c_str(),
      m.server_peak_rss_kb ? std::to_string(*m.server_peak_rss_kb).c_str() : "na");
  std::printf(
      "RESULT mode=%s concurrency=%u file_size=%llu transfers=%llu ok=%llu failed=%llu "
      "mismatches=%llu seconds=%.3f segments_per_s=%.0f mb_per_s=%.1f transfers_per_s=%.1f "
      "p50_ms=%.2f p99_ms=%.2f max_ms=%.2f client_cpu_s=%.2f server_cpu_s=%s "
      "server_cpu_us_per_segment=%s server_peak_rss_kb=%s threads=%u window=%u "
      "create_p50_ms=%s create_p99_ms=%s client_cpu_us_per_segment=%.2f not_started=%llu "
      "peak_connections=%llu failures=%s\n",
      mode_name(o.mode), o.concurrency, static_cast<unsigned long long>(o.file_size),
      static_cast<unsigned long long>(o.transfers), static_cast<unsigned long long>(s.ok),
      static_cast<unsigned long long>(s.failed),
      static_cast<unsigned long long>(s.counters.mismatched_segments), secs, seg_per_s, mb_per_s,
      transfers_per_s, t.p50_ms, t.p99_ms, t.max_ms, m.client_cpu_s,
      or_na(m.server_cpu_s, "%.2f").c_str(), or_na(server_us_per_segment, "%.2f").c_str(),
      m.server_peak_rss_kb ? std::to_string(*m.server_peak_rss_kb).c_str() : "na", o.threads,
      o.window, create_p50.c_str(), create_p99.c_str(), client_us_per_segment,
      static_cast<unsigned long long>(not_started),
      static_cast<unsigned long long>(m.peak_connections), failures.c_str());
  std::fflush(stdout);
  const bool all_ok = s.ok == o.transfers && s.failed == 0 && s.counters.mismatched_segments == 0;
  return all_ok ? 0 : 1;
}

}  // namespace ttfs::load
