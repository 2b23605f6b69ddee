#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "ttfs/console.h"

namespace ttfs::tool {

struct ProgressSnapshot {
  uint64_t done = 0;
  uint64_t total = 0;
  double bytes_per_second = 0;              // 0 while not yet measurable
  std::optional<std::chrono::seconds> eta;  // empty while the rate is unknown
};

std::string format_bytes(uint64_t bytes);                         // "512 B", "1.5 KiB", "200.0 MiB"
std::string format_rate(double bytes_per_second);                 // "95.3 MiB/s"
std::string format_eta(std::optional<std::chrono::seconds> eta);  // "0:05", "1:02:03", "--:--"
std::string format_seconds(std::chrono::nanoseconds elapsed);     // "2.1 s"

// "[#######.................]  30%  60.0 MiB / 200.0 MiB  95.3 MiB/s  ETA 0:01"
std::string render_bar(std::string_view label, const ProgressSnapshot& s);
// "recv: 30% (60.0 MiB of 200.0 MiB), 95.3 MiB/s, ETA 0:01"
std::string render_line(std::string_view label, const ProgressSnapshot& s);

// Counts the bytes a transfer moves and shows them: a bar redrawn at most
// ten times a second on a terminal, or a plain line at each tenth of the
// file and every few seconds otherwise, so logs stay short.
class ProgressMeter {
 public:
  using Clock = std::chrono::steady_clock;

  ProgressMeter(std::ostream& err, ProgressMode mode, std::string label, uint64_t total,
                uint64_t already = 0, std::function<Clock::time_point()> now = Clock::now);

  void add(uint64_t bytes);
  // Draws the last state and ends the bar's line; idempotent.
  void finish();
  ProgressSnapshot snapshot() const;
  uint64_t bytes_this_run() const { return done_ - already_; }
  std::chrono::nanoseconds elapsed() const { return now_() - start_; }
  // "12.0 MiB in 2.1 s (5.7 MiB/s)": this run's bytes, time and mean rate.
  std::string summary() const;

  static constexpr std::chrono::milliseconds kBarInterval{100};
  static constexpr std::chrono::seconds kLineInterval{5};

 private:
  void draw(Clock::time_point now);

  std::ostream& err_;
  ProgressMode mode_;
  std::string label_;
  uint64_t total_;
  uint64_t already_;
  uint64_t done_;
  std::function<Clock::time_point()> now_;
  Clock::time_point start_;
  Clock::time_point last_draw_{};
  int last_decile_ = -1;
  bool drawn_ = false;
  uint64_t drawn_done_ = 0;
  bool finished_ = false;
  // Recent (time, bytes) samples: the rate follows the last few seconds,
  // not the average since a slow start.
  std::deque<std::pair<Clock::time_point, uint64_t>> samples_;
};

}  // namespace ttfs::tool
