#include "server/watchdog.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

namespace ttfs::server {
namespace {

TEST(Watchdog, RunsItsExpiryOnceTheLimitHasPassed) {
  std::atomic<bool> expired{false};
  const auto started = std::chrono::steady_clock::now();
  {
    Watchdog watchdog(std::chrono::milliseconds(100), [&] { expired = true; });
    for (int i = 0; i < 500 && !expired; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(expired);
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
}

TEST(Watchdog, DestroyedInTimeItDoesNothing) {
  std::atomic<bool> expired{false};
  const auto started = std::chrono::steady_clock::now();
  {
    Watchdog watchdog(std::chrono::seconds(30), [&] { expired = true; });
  }
  EXPECT_FALSE(expired);
  // Disarming wakes it: the destructor does not wait out the limit.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(10));
}

}  // namespace
}  // namespace ttfs::server
