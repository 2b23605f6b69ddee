#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <thread>
#include <vector>

#include "client/client.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;

// A few hundred transfers at once, offline and online mixed, each with its
// own content; every byte that arrives is checked against what was sent.
TEST_F(ServerFixture, HundredsOfConcurrentTransfersAreEachByteExact) {
  constexpr int kOffline = 150;
  constexpr int kOnlinePairs = 75;
  constexpr uint64_t kSize = 200 * 1024 + 77;

  struct Job {
    std::string task;
    uint64_t seed;
    bool online;
  };
  std::vector<Job> jobs;
  for (int i = 0; i < kOffline + kOnlinePairs; ++i) {
    const bool online = i >= kOffline;
    const uint32_t from = 10000 + static_cast<uint32_t>(i);
    jobs.push_back({create_task(from, from + 50000, kSize,
                                online ? TransferMode::kOnline : TransferMode::kOffline),
                    static_cast<uint64_t>(i) * 1000003, online});
    ASSERT_FALSE(jobs.back().task.empty());
  }

  std::atomic<int> failures{0};
  std::atomic<int> verified{0};
  std::latch start(static_cast<std::ptrdiff_t>(kOffline + 2 * kOnlinePairs));
  std::vector<std::thread> threads;
  for (int i = 0; i < kOffline + kOnlinePairs; ++i) {
    const Job& job = jobs[i];
    const uint32_t from = 10000 + static_cast<uint32_t>(i);
    const uint32_t to = from + 50000;
    if (!job.online) {
      threads.emplace_back([&, from, to] {
        start.arrive_and_wait();
        client::OfflineUploader up(client_endpoint(), {job.task, from, kSize},
                                   client::PatternSource(job.seed).reader());
        if (!up.run().ok()) return void(failures++);
        client::PatternVerifier verifier(job.seed, kSize);
        client::DownloadOptions options;
        options.pull.window = 4;
        client::OfflineDownloader down(client_endpoint(), {job.task, to, kSize}, verifier.writer(),
                                       options);
        if (!down.run().ok() || !verifier.complete_and_correct()) return void(failures++);
        verified++;
      });
    } else {
      threads.emplace_back([&, from] {
        start.arrive_and_wait();
        client::OnlineSender sender(client_endpoint(), {job.task, from, kSize},
                                    client::PatternSource(job.seed).reader());
        if (!sender.run().ok()) failures++;
      });
      threads.emplace_back([&, to] {
        start.arrive_and_wait();
        client::PatternVerifier verifier(job.seed, kSize);
        client::PullOptions pull;
        pull.window = 4;
        client::OnlineReceiver receiver(client_endpoint(), {job.task, to, kSize}, verifier.writer(),
                                        pull);
        if (!receiver.run().ok() || !verifier.complete_and_correct()) return void(failures++);
        verified++;
      });
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(verified.load(), kOffline + kOnlinePairs);
  const auto stats = server_->stats();
  EXPECT_EQ(stats.uploads_completed, static_cast<uint64_t>(kOffline));
  EXPECT_EQ(stats.protocol_errors, 0u);
}

}  // namespace
}  // namespace ttfs::testing
