// The real server on a small file system made for the test (a 3 MiB tmpfs):
// an upload that does not fit fails clearly, nothing of it is served, a
// download running meanwhile completes byte-exact, and uploads succeed again
// once space returns. Needs the right to mount (root, as in CI); skipped
// with the reason otherwise.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <thread>

#include "client/client.h"
#include "server_fixture.h"
#include "tmpfs_mount.h"

namespace ttfs::testing {
namespace {

using client::FileState;
using client::TransferMode;

constexpr uint32_t kSender = 3001;
constexpr uint32_t kReceiver = 3002;
constexpr uint64_t kMiB = 1024 * 1024;

class FullDisk : public ServerFixture {
 protected:
  void SetUp() override {
    mount_ = std::make_unique<TmpfsMount>(
        std::filesystem::temp_directory_path() / ("ttfs-fulldisk-" + std::to_string(::getpid())),
        3 * kMiB);
    if (!mount_->mounted()) {
      GTEST_SKIP() << "cannot mount a 3 MiB tmpfs (" << mount_->error()
                   << "); the full-disk behaviour is still covered by FullDiskTest in the "
                      "storage tests, on a simulated disk";
    }
    data_dir_ = mount_->path() / "store";
    start_server();
  }

  void TearDown() override {
    server_.reset();
    mount_.reset();
  }

  client::TransferResult upload(const std::string& task, uint64_t size, uint64_t seed) {
    client::OfflineUploader uploader(client_endpoint(), {task, kSender, size},
                                     client::PatternSource(seed).reader());
    return uploader.run();
  }

  bool downloads_exactly(const std::string& task, uint64_t size, uint64_t seed) {
    client::PatternVerifier verifier(seed, size);
    client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                         verifier.writer());
    return downloader.run().ok() && verifier.complete_and_correct();
  }

  uint64_t free_bytes() const { return mount_->free_bytes(); }

  std::unique_ptr<TmpfsMount> mount_;
};

TEST_F(FullDisk, AnUploadThatDoesNotFitFailsAndTheServerGoesOn) {
  const std::string stored = create_task(kSender, kReceiver, kMiB, TransferMode::kOffline);
  ASSERT_TRUE(upload(stored, kMiB, 1).ok());

  // A 4 MiB upload into the 2 MiB left, while the stored file is downloaded.
  const std::string too_big = create_task(kSender, kReceiver, 4 * kMiB, TransferMode::kOffline);
  bool download_ok = false;
  std::thread reader([&] { download_ok = downloads_exactly(stored, kMiB, 1); });
  const auto failed = upload(too_big, 4 * kMiB, 2);
  reader.join();
  EXPECT_FALSE(failed.ok());
  EXPECT_EQ(failed.final_state, FileState::kCancel) << failed.status.to_string();
  std::printf("FULL-DISK upload of 4 MiB into 3 MiB: %s\n", failed.status.to_string().c_str());
  EXPECT_TRUE(download_ok) << "a download running meanwhile must complete byte-exact";

  // Nothing of it is served, and its partial data is removed.
  client::PatternVerifier verifier(2, 4 * kMiB);
  client::OfflineDownloader refused(client_endpoint(), {too_big, kReceiver, 4 * kMiB},
                                    verifier.writer());
  EXPECT_FALSE(refused.run().ok());
  for (int i = 0; i < 100 && free_bytes() < 3 * kMiB / 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(free_bytes(), 3 * kMiB / 2) << "the failed upload's space is given back";

  // Space is back: the next upload goes through.
  const std::string next = create_task(kSender, kReceiver, kMiB + 5, TransferMode::kOffline);
  ASSERT_TRUE(upload(next, kMiB + 5, 3).ok());
  EXPECT_TRUE(downloads_exactly(next, kMiB + 5, 3));
}

TEST_F(FullDisk, WhenSomethingElseFillsTheDiskUploadsFailUntilItIsFreed) {
  {
    std::ofstream filler(mount_->path() / "filler", std::ios::binary);
    const std::string chunk(64 * 1024, 'x');
    while (filler.write(chunk.data(), static_cast<std::streamsize>(chunk.size()))) {
    }
  }
  const std::string blocked = create_task(kSender, kReceiver, 256 * 1024, TransferMode::kOffline);
  const auto failed = upload(blocked, 256 * 1024, 4);
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.final_state, FileState::kDone);

  std::filesystem::remove(mount_->path() / "filler");
  const std::string later = create_task(kSender, kReceiver, 256 * 1024, TransferMode::kOffline);
  ASSERT_TRUE(upload(later, 256 * 1024, 5).ok());
  EXPECT_TRUE(downloads_exactly(later, 256 * 1024, 5));
}

}  // namespace
}  // namespace ttfs::testing
