#include "transfer/task_quota.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace ttfs::transfer {
namespace {

using Refusal = TaskQuota::Refusal;

TEST(TaskQuota, OneUserIsHeldToItsBoundAndOthersAreNot) {
  TaskQuota quota(100, 2);
  EXPECT_EQ(quota.try_acquire(7), Refusal::kNone);
  EXPECT_EQ(quota.try_acquire(7), Refusal::kNone);
  EXPECT_EQ(quota.try_acquire(7), Refusal::kOverPerUser);
  EXPECT_EQ(quota.try_acquire(8), Refusal::kNone);
  EXPECT_EQ(quota.live_for(7), 2u);
  EXPECT_EQ(quota.live(), 3u);
  quota.release(7);
  EXPECT_EQ(quota.try_acquire(7), Refusal::kNone);
}

TEST(TaskQuota, TheTotalHoldsForEveryUserTogether) {
  TaskQuota quota(2, 0);
  EXPECT_EQ(quota.try_acquire(1), Refusal::kNone);
  EXPECT_EQ(quota.try_acquire(2), Refusal::kNone);
  EXPECT_EQ(quota.try_acquire(3), Refusal::kOverTotal);
  EXPECT_EQ(quota.live_for(3), 0u);
  quota.release(1);
  EXPECT_EQ(quota.try_acquire(3), Refusal::kNone);
}

TEST(TaskQuota, ATaskBackFromTheStoreIsCountedButNeverRefused) {
  TaskQuota quota(1, 1);
  ASSERT_EQ(quota.try_acquire(1), Refusal::kNone);
  quota.acquire(1);  // a resumed upload of the same user
  EXPECT_EQ(quota.live_for(1), 2u);
  EXPECT_EQ(quota.try_acquire(2), Refusal::kOverTotal);
  quota.release(1);
  quota.release(1);
  EXPECT_EQ(quota.live(), 0u);
  EXPECT_EQ(quota.try_acquire(2), Refusal::kNone);
}

TEST(TaskQuota, WorkersMakingAndEndingTasksAtOnceNeverPassTheBounds) {
  constexpr size_t kTotal = 30;
  constexpr size_t kPerUser = 8;
  TaskQuota quota(kTotal, kPerUser);
  std::atomic<bool> over{false};
  std::vector<std::thread> workers;
  for (uint32_t w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      std::vector<uint32_t> held;
      for (uint32_t i = 0; i < 3000; ++i) {
        const uint32_t user = (i + w) % 5;
        if (quota.try_acquire(user) == Refusal::kNone) held.push_back(user);
        if (quota.live() > kTotal || quota.live_for(user) > kPerUser) over = true;
        if (held.size() > 6) {
          quota.release(held.front());
          held.erase(held.begin());
        }
      }
      for (uint32_t user : held) quota.release(user);
    });
  }
  for (auto& worker : workers) worker.join();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(quota.live(), 0u);
}

}  // namespace
}  // namespace ttfs::transfer
