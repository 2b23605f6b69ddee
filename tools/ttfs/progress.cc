#include "ttfs/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace ttfs::tool {

namespace {

constexpr std::chrono::seconds kRateWindow{3};
constexpr std::chrono::milliseconds kSampleEvery{100};
constexpr size_t kBarWidth = 24;

int percent_of(uint64_t done, uint64_t total) {
  if (total == 0) return 100;
  return static_cast<int>(std::min<uint64_t>(100, done * 100 / total));
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " B";
  double value = static_cast<double>(bytes) / 1024.0;
  size_t unit = 0;
  while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
    value /= 1024.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  return buf;
}

std::string format_rate(double bytes_per_second) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB/s", bytes_per_second / (1024.0 * 1024.0));
  return buf;
}

std::string format_eta(std::optional<std::chrono::seconds> eta) {
  if (!eta || eta->count() < 0) return "--:--";
  const long long total = eta->count();
  const long long h = total / 3600;
  const long long m = (total / 60) % 60;
  const long long s = total % 60;
  char buf[32];
  if (h > 0) {
    std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", h, m, s);
  } else {
    std::snprintf(buf, sizeof buf, "%lld:%02lld", m, s);
  }
  return buf;
}

std::string format_seconds(std::chrono::nanoseconds elapsed) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(elapsed).count());
  return buf;
}

std::string render_bar(std::string_view label, const ProgressSnapshot& s) {
  const int pct = percent_of(s.done, s.total);
  const size_t filled = static_cast<size_t>(pct) * kBarWidth / 100;
  std::string bar(label);
  bar += " [";
  bar.append(filled, '#');
  bar.append(kBarWidth - filled, '.');
  char tail[160];
  std::snprintf(tail, sizeof tail, "] %3d%%  %s / %s  %s  ETA %s", pct,
                format_bytes(s.done).c_str(), format_bytes(s.total).c_str(),
                format_rate(s.bytes_per_second).c_str(), format_eta(s.eta).c_str());
  return bar + tail;
}

std::string render_line(std::string_view label, const ProgressSnapshot& s) {
  char buf[200];
  std::snprintf(buf, sizeof buf, "%d%% (%s of %s), %s, ETA %s", percent_of(s.done, s.total),
                format_bytes(s.done).c_str(), format_bytes(s.total).c_str(),
                format_rate(s.bytes_per_second).c_str(), format_eta(s.eta).c_str());
  return std::string(label) + ": " + buf;
}

ProgressMeter::ProgressMeter(std::ostream& err, ProgressMode mode, std::string label,
                             uint64_t total, uint64_t already,
                             std::function<Clock::time_point()> now)
    : err_(err),
      mode_(mode),
      label_(std::move(label)),
      total_(total),
      already_(already),
      done_(already),
      now_(std::move(now)),
      start_(now_()) {
  samples_.emplace_back(start_, done_);
  // A resumed download starts its tenths where it stands, not at zero.
  if (total_ > 0) last_decile_ = static_cast<int>(done_ * 10 / total_);
}

ProgressSnapshot ProgressMeter::snapshot() const {
  ProgressSnapshot s;
  s.done = done_;
  s.total = total_;
  const auto now = now_();
  const auto& [t0, b0] = samples_.front();
  const double window_s = std::chrono::duration<double>(now - t0).count();
  const double run_s = std::chrono::duration<double>(now - start_).count();
  if (window_s >= 0.2 && done_ > b0) {
    s.bytes_per_second = static_cast<double>(done_ - b0) / window_s;
  } else if (run_s > 0 && done_ > already_) {
    // Too early for a window: a short transfer still gets its average.
    s.bytes_per_second = static_cast<double>(done_ - already_) / run_s;
  }
  if (done_ >= total_) {
    s.eta = std::chrono::seconds(0);
  } else if (s.bytes_per_second > 0) {
    const double left = static_cast<double>(total_ - done_);
    s.eta = std::chrono::seconds(static_cast<long long>(std::ceil(left / s.bytes_per_second)));
  }
  return s;
}

void ProgressMeter::add(uint64_t bytes) {
  done_ += bytes;
  const auto now = now_();
  if (now - samples_.back().first >= kSampleEvery) {
    samples_.emplace_back(now, done_);
    while (samples_.size() > 2 && now - samples_[1].first >= kRateWindow) samples_.pop_front();
  }
  switch (mode_) {
    case ProgressMode::kNone: return;
    case ProgressMode::kBar:
      if (!drawn_ || now - last_draw_ >= kBarInterval) draw(now);
      return;
    case ProgressMode::kLines: {
      const int decile = total_ == 0 ? 10 : static_cast<int>(done_ * 10 / total_);
      if (decile > last_decile_ || now - last_draw_ >= kLineInterval) {
        last_decile_ = decile;
        draw(now);
      }
      return;
    }
  }
}

void ProgressMeter::draw(Clock::time_point now) {
  const ProgressSnapshot s = snapshot();
  if (mode_ == ProgressMode::kBar) {
    err_ << '\r' << render_bar(label_, s) << "\x1b[K";
  } else {
    err_ << render_line(label_, s) << '\n';
  }
  err_.flush();
  last_draw_ = now;
  drawn_ = true;
  drawn_done_ = done_;
}

void ProgressMeter::finish() {
  if (finished_) return;
  finished_ = true;
  if (mode_ == ProgressMode::kNone) return;
  if (mode_ == ProgressMode::kBar) {
    if (!drawn_) return;
    draw(now_());
    err_ << '\n';
    err_.flush();
  } else if (drawn_done_ != done_) {
    draw(now_());
  }
}

std::string ProgressMeter::summary() const {
  const double s = std::chrono::duration<double>(elapsed()).count();
  const double rate = s > 0 ? static_cast<double>(bytes_this_run()) / s : 0;
  return format_bytes(bytes_this_run()) + " in " + format_seconds(elapsed()) + " (" +
         format_rate(rate) + ")";
}

}  // namespace ttfs::tool
