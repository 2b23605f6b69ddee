#include "ttfs/progress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

namespace ttfs::tool {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kMiB = 1024 * 1024;

TEST(ProgressFormat, Bytes) {
  EXPECT_EQ(format_bytes(0), "0 B");
  EXPECT_EQ(format_bytes(1023), "1023 B");
  EXPECT_EQ(format_bytes(1536), "1.5 KiB");
  EXPECT_EQ(format_bytes(200 * kMiB), "200.0 MiB");
  EXPECT_EQ(format_bytes((uint64_t{4} << 30) - 1), "4.0 GiB");
}

TEST(ProgressFormat, RateAndEta) {
  EXPECT_EQ(format_rate(0), "0.0 MiB/s");
  EXPECT_EQ(format_rate(95.3 * kMiB), "95.3 MiB/s");
  EXPECT_EQ(format_eta(std::nullopt), "--:--");
  EXPECT_EQ(format_eta(0s), "0:00");
  EXPECT_EQ(format_eta(65s), "1:05");
  EXPECT_EQ(format_eta(3723s), "1:02:03");
  EXPECT_EQ(format_seconds(2100ms), "2.1 s");
}

TEST(ProgressFormat, BarAndLine) {
  ProgressSnapshot s{60 * kMiB, 200 * kMiB, 95.3 * kMiB, std::chrono::seconds(2)};
  EXPECT_EQ(render_bar("recv", s),
            "recv [#######.................]  30%  60.0 MiB / 200.0 MiB  95.3 MiB/s  ETA 0:02");
  EXPECT_EQ(render_line("recv", s), "recv: 30% (60.0 MiB of 200.0 MiB), 95.3 MiB/s, ETA 0:02");
  EXPECT_EQ(render_line("send", {0, 0, 0, std::nullopt}),
            "send: 100% (0 B of 0 B), 0.0 MiB/s, ETA --:--");
}

// A clock the test moves by hand.
struct FakeClock {
  ProgressMeter::Clock::time_point now{std::chrono::hours(1)};
  std::function<ProgressMeter::Clock::time_point()> fn() {
    return [this] { return now; };
  }
};

size_t count_lines(const std::string& s) {
  return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
}

TEST(ProgressMeter, PlainLinesAtEachTenthAndNotMore) {
  FakeClock clock;
  std::ostringstream err;
  ProgressMeter meter(err, ProgressMode::kLines, "recv", 100 * kMiB, 0, clock.fn());
  for (int i = 0; i < 100; ++i) {
    clock.now += 10ms;
    meter.add(kMiB);
  }
  meter.finish();
  const std::string out = err.str();
  // One when it starts, then 10%, 20%, ... 100%; finish() adds nothing.
  EXPECT_EQ(count_lines(out), 11u) << out;
  EXPECT_NE(out.find("recv: 10% (10.0 MiB of 100.0 MiB), 100.0 MiB/s"), std::string::npos) << out;
  EXPECT_NE(out.find("recv: 100% (100.0 MiB of 100.0 MiB), 100.0 MiB/s, ETA 0:00\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find('\r'), std::string::npos);
}

TEST(ProgressMeter, SlowTransferPrintsEveryFewSeconds) {
  FakeClock clock;
  std::ostringstream err;
  ProgressMeter meter(err, ProgressMode::kLines, "send", 1000 * kMiB, 0, clock.fn());
  clock.now += 1s;
  meter.add(kMiB);  // the first line says it has started
  for (int i = 0; i < 20; ++i) {
    clock.now += 1s;
    meter.add(kMiB);
  }
  // 21 s at 1 MiB/s, no tenth crossed: a line at the start and every 5 s.
  EXPECT_EQ(count_lines(err.str()), 5u) << err.str();
  EXPECT_NE(err.str().find("send: 2% (21.0 MiB of 1000.0 MiB), 1.0 MiB/s, ETA 16:19"),
            std::string::npos)
      << err.str();
}

TEST(ProgressMeter, BarRedrawsAtMostTenTimesASecond) {
  FakeClock clock;
  std::ostringstream err;
  ProgressMeter meter(err, ProgressMode::kBar, "recv", 1000 * kMiB, 0, clock.fn());
  for (int i = 0; i < 1000; ++i) {  // one second, a segment every millisecond
    clock.now += 1ms;
    meter.add(kMiB);
  }
  meter.finish();
  const std::string out = err.str();
  const auto redraws = std::count(out.begin(), out.end(), '\r');
  EXPECT_GE(redraws, 10);
  EXPECT_LE(redraws, 12);
  EXPECT_EQ(count_lines(out), 1u);  // only finish() ends the line
  EXPECT_NE(out.find("100%  1000.0 MiB / 1000.0 MiB"), std::string::npos);
}

TEST(ProgressMeter, ResumedDownloadCountsOnlyThisRun) {
  FakeClock clock;
  std::ostringstream err;
  ProgressMeter meter(err, ProgressMode::kNone, "recv", 100 * kMiB, 40 * kMiB, clock.fn());
  clock.now += 2s;
  meter.add(20 * kMiB);
  EXPECT_EQ(meter.bytes_this_run(), 20 * kMiB);
  const ProgressSnapshot s = meter.snapshot();
  EXPECT_EQ(s.done, 60 * kMiB);
  EXPECT_DOUBLE_EQ(s.bytes_per_second, 10.0 * kMiB);
  EXPECT_EQ(s.eta, std::chrono::seconds(4));
  EXPECT_TRUE(err.str().empty());
}

}  // namespace
}  // namespace ttfs::tool
