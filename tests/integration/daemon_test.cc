#include "daemon.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "client/client.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;

std::string create(const Daemon& daemon, uint64_t size) {
  auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
  if (!msg.ok()) return {};
  auto reply = msg->create_task(
      {7, 8, "daemon.bin", static_cast<uint32_t>(size), TransferMode::kOffline, std::nullopt});
  return reply.ok() && reply->ok() ? *reply->task_id : std::string();
}

bool download_is_exact(const Daemon& daemon, const std::string& task, uint64_t size,
                       uint64_t seed) {
  client::PatternVerifier verifier(seed, size);
  client::OfflineDownloader down(daemon.client_endpoint(), {task, 8, size}, verifier.writer());
  return down.run().ok() && verifier.complete_and_correct();
}

TEST(Daemon, ServesStopsCleanlyOnSignalsAndKeepsFilesAcrossRestarts) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ttfs-daemon-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto log = dir.string() + ".log";
  const uint64_t size = 1024 * 1024 + 5;
  std::string task;
  std::string empty_task;
  {
    Daemon daemon(dir, log);
    ASSERT_TRUE(daemon.started());
    task = create(daemon, size);
    ASSERT_FALSE(task.empty());
    client::OfflineUploader up(daemon.client_endpoint(), {task, 7, size},
                               client::PatternSource(77).reader());
    ASSERT_TRUE(up.run().ok());
    empty_task = create(daemon, 0);
    client::OfflineUploader empty(daemon.client_endpoint(), {empty_task, 7, 0},
                                  client::PatternSource(1).reader());
    const auto done = empty.run();
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done.segments, 0u);
    EXPECT_TRUE(download_is_exact(daemon, task, size, 77));
    EXPECT_EQ(daemon.stop(SIGTERM), 0);
  }
  {
    Daemon daemon(dir, log);
    ASSERT_TRUE(daemon.started());
    EXPECT_TRUE(download_is_exact(daemon, task, size, 77));
    EXPECT_TRUE(download_is_exact(daemon, empty_task, 0, 1));
    EXPECT_EQ(daemon.stop(SIGINT), 0);
  }
  std::filesystem::remove_all(dir);
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace ttfs::testing
