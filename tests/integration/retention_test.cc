// Retention through the whole server: a file past its retention is gone from
// the disk and from the protocol, and a download that had begun when it
// expired is served to its end, byte-exact.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "client/client.h"
#include "common/task_id.h"
#include "server_fixture.h"
#include "storage/store_layout.h"

namespace ttfs::testing {
namespace {

using namespace std::chrono_literals;
using client::FileState;
using client::TransferMode;

constexpr uint32_t kSender = 1001;
constexpr uint32_t kReceiver = 1002;
constexpr int64_t kWeek = 7 * 24 * 3600;

class Retention : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.retention.complete_for = std::chrono::seconds(kWeek);
    config.retention.partial_for = std::chrono::seconds(kWeek);
    config.retention.sweep_period = 256ms;
    config.retention.clock = [this] { return now_.load(); };
    return config;
  }

  std::string upload(uint64_t size, uint64_t seed) {
    const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
    client::OfflineUploader uploader(client_endpoint(), {task, kSender, size},
                                     client::PatternSource(seed).reader());
    const auto up = uploader.run();
    EXPECT_TRUE(up.ok()) << up.status.to_string();
    EXPECT_EQ(up.final_state, FileState::kDone);
    return task;
  }

  std::filesystem::path data_path(const std::string& task) const {
    return storage::StoreLayout(data_dir_).data_path(*TaskId::parse(task));
  }

  bool gone_eventually(const std::string& task) const {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    const auto meta = storage::StoreLayout(data_dir_).meta_path(*TaskId::parse(task));
    while (std::filesystem::exists(data_path(task)) || std::filesystem::exists(meta)) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

  std::atomic<int64_t> now_{1800000000};
};

TEST_F(Retention, AnExpiredFileIsRemovedAndNoLongerServed) {
  const uint64_t size = 3 * 32768 + 5;
  const std::string expiring = upload(size, 1);
  now_ += kWeek - 10;
  const std::string younger = upload(size, 2);

  now_ += 10;
  ASSERT_TRUE(gone_eventually(expiring));
  EXPECT_TRUE(std::filesystem::exists(data_path(younger)));

  // After a restart nothing in memory remembers it either.
  restart_server();
  client::PatternVerifier verifier(1, size);
  client::OfflineDownloader downloader(client_endpoint(), {expiring, kReceiver, size},
                                       verifier.writer());
  const auto down = downloader.run();
  EXPECT_FALSE(down.ok());
  EXPECT_EQ(down.status.code(), client::ErrorCode::kRefused) << down.status.to_string();

  client::PatternVerifier kept(2, size);
  client::OfflineDownloader keeps(client_endpoint(), {younger, kReceiver, size}, kept.writer());
  const auto ok = keeps.run();
  ASSERT_TRUE(ok.ok()) << ok.status.to_string();
  EXPECT_TRUE(kept.complete_and_correct());
}

TEST_F(Retention, ADownloadUnderWayWhenItsFileExpiresIsServedToItsEnd) {
  const uint64_t size = 12 * 32768 + 77;
  const std::string task = upload(size, 3);

  client::PatternVerifier verifier(3, size);
  bool expired_mid_download = false;
  const client::WriteAt check = verifier.writer();
  // After the first segment the file expires and the sweep removes it; the
  // rest is still pulled over the same connection.
  auto sink = [&](uint64_t offset, std::span<const uint8_t> bytes) {
    if (!expired_mid_download) {
      now_ += kWeek;
      expired_mid_download = gone_eventually(task);
    }
    return check(offset, bytes);
  };
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size}, sink);
  const auto down = downloader.run();
  ASSERT_TRUE(expired_mid_download) << "the sweep never removed the file";
  ASSERT_TRUE(down.ok()) << down.status.to_string();
  EXPECT_EQ(down.final_state, FileState::kDone);
  EXPECT_TRUE(verifier.complete_and_correct()) << "first mismatch at " << verifier.first_mismatch();
}

}  // namespace
}  // namespace ttfs::testing
