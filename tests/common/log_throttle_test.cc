#include "common/log_throttle.h"

#include <gtest/gtest.h>

namespace ttfs {
namespace {

TEST(LogThrottle, LetsOneLineAnIntervalThroughAndCountsTheRest) {
  LogThrottle throttle(std::chrono::seconds(1));
  const auto t0 = LogThrottle::Clock::time_point{} + std::chrono::hours(1);
  uint64_t held_back = 99;
  EXPECT_TRUE(throttle.allow(t0, held_back));
  EXPECT_EQ(held_back, 0u);
  for (int i = 0; i < 500; ++i)
    EXPECT_FALSE(throttle.allow(t0 + std::chrono::milliseconds(i), held_back));
  EXPECT_TRUE(throttle.allow(t0 + std::chrono::seconds(1), held_back));
  EXPECT_EQ(held_back, 500u);
  EXPECT_TRUE(throttle.allow(t0 + std::chrono::seconds(5), held_back));
  EXPECT_EQ(held_back, 0u);
}

}  // namespace
}  // namespace ttfs
