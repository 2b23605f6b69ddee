#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "client/client.h"
#include "common/task_id.h"
#include "server_fixture.h"
#include "storage/store_layout.h"

namespace ttfs::testing {
namespace {

using client::FileState;
using client::TransferMode;

constexpr uint32_t kSender = 1001;
constexpr uint32_t kReceiver = 1002;

client::TransferResult upload(const client::Endpoint& server, const std::string& task,
                              uint64_t size, uint64_t seed, client::ServeOptions options = {}) {
  client::OfflineUploader uploader(server, {task, kSender, size},
                                   client::PatternSource(seed).reader(), options);
  return uploader.run();
}

class OfflineTransfer : public ServerFixture, public ::testing::WithParamInterface<uint64_t> {};

TEST_P(OfflineTransfer, UploadThenDownloadIsByteExact) {
  const uint64_t size = GetParam();
  const uint64_t seed = size * 7 + 3;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  ASSERT_FALSE(task.empty());

  const auto up = upload(client_endpoint(), task, size, seed);
  ASSERT_TRUE(up.ok()) << up.status.to_string();
  EXPECT_EQ(up.final_state, FileState::kDone);
  EXPECT_EQ(up.bytes, size);
  EXPECT_EQ(up.segments, (size + client::kSegmentSize - 1) / client::kSegmentSize);

  client::PatternVerifier verifier(seed, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  const auto down = downloader.run();
  ASSERT_TRUE(down.ok()) << down.status.to_string();
  EXPECT_EQ(down.final_state, FileState::kDone);
  EXPECT_EQ(down.bytes, size);
  EXPECT_TRUE(verifier.complete_and_correct()) << "first mismatch at " << verifier.first_mismatch();
}

INSTANTIATE_TEST_SUITE_P(Sizes, OfflineTransfer,
                         ::testing::Values(0, 1, 32767, 32768, 32769, 5 * 1024 * 1024 + 12345));

using OfflineBehaviour = ServerFixture;

TEST_F(OfflineBehaviour, ZeroByteUploadIsDoneWithoutAnyPullRequest) {
  const std::string task = create_task(kSender, kReceiver, 0, TransferMode::kOffline);
  const auto up = upload(client_endpoint(), task, 0, 1);
  ASSERT_TRUE(up.ok()) << up.status.to_string();
  EXPECT_EQ(up.final_state, FileState::kDone);
  EXPECT_EQ(up.segments, 0u);
}

TEST_F(OfflineBehaviour, DownloadInAnyOrderWithAWindow) {
  const uint64_t size = 40 * 32768 + 99;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  ASSERT_TRUE(upload(client_endpoint(), task, size, 42).ok());

  client::PatternVerifier verifier(42, size);
  client::DownloadOptions options;
  options.pull.window = 8;
  options.pull.shuffle = true;
  options.pull.shuffle_seed = 7;
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer(), options);
  const auto down = downloader.run();
  ASSERT_TRUE(down.ok()) << down.status.to_string();
  EXPECT_TRUE(verifier.complete_and_correct());
}

TEST_F(OfflineBehaviour, AFileTheDiskDamagedIsRefusedNotServed) {
  const uint64_t size = 4 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  ASSERT_TRUE(upload(client_endpoint(), task, size, 5).ok());

  // One byte of the third segment changes on the disk after the upload.
  const auto id = TaskId::parse(task);
  ASSERT_TRUE(id.has_value());
  const auto path = storage::StoreLayout(data_dir_).data_path(*id);
  {
    std::fstream data(path, std::ios::in | std::ios::out | std::ios::binary);
    data.seekg(2 * 32768 + 99);
    const char was = static_cast<char>(data.get());
    data.seekp(2 * 32768 + 99);
    data.put(static_cast<char>(was ^ 0x40));
    ASSERT_TRUE(data.good());
  }

  client::PatternVerifier verifier(5, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  const auto down = downloader.run();
  EXPECT_FALSE(down.ok()) << "a damaged segment must not be served";
  EXPECT_NE(down.final_state, FileState::kDone);
  EXPECT_EQ(verifier.first_mismatch(), -1) << "the changed byte reached the receiver";
  EXPECT_FALSE(verifier.complete_and_correct());
  std::printf("damaged file: %s\n", down.status.to_string().c_str());
}

TEST_F(OfflineBehaviour, CompletedUploadSurvivesARestart) {
  const uint64_t size = 3 * 32768 + 17;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  ASSERT_TRUE(upload(client_endpoint(), task, size, 5).ok());

  restart_server();

  client::PatternVerifier verifier(5, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  const auto down = downloader.run();
  ASSERT_TRUE(down.ok()) << down.status.to_string();
  EXPECT_TRUE(verifier.complete_and_correct());
}

TEST_F(OfflineBehaviour, UploaderThatDropsMidTransferResumesWhereItLeftOff) {
  const uint64_t size = 64 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  client::ServeOptions cut;
  cut.stop_after_segments = 20;
  const auto first = upload(client_endpoint(), task, size, 9, cut);
  EXPECT_EQ(first.status.code(), client::ErrorCode::kStopped);

  const auto second = upload(client_endpoint(), task, size, 9);
  ASSERT_TRUE(second.ok()) << second.status.to_string();
  EXPECT_EQ(second.final_state, FileState::kDone);
  // The segments that were answered and stored are not asked for again.
  EXPECT_LT(second.segments, 64u);

  client::PatternVerifier verifier(9, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  ASSERT_TRUE(downloader.run().ok());
  EXPECT_TRUE(verifier.complete_and_correct());
}

TEST_F(OfflineBehaviour, DownloadBeforeTheUploadIsCompleteIsRefused) {
  const uint64_t size = 10 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  client::PatternVerifier verifier(1, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  EXPECT_EQ(downloader.connect().code(), client::ErrorCode::kRefused);
}

TEST_F(OfflineBehaviour, ReceiverCannotUploadAndSenderCannotDownload) {
  const uint64_t size = 100;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  client::OfflineUploader wrong_uploader(client_endpoint(), {task, kReceiver, size},
                                         client::PatternSource(1).reader());
  EXPECT_EQ(wrong_uploader.connect().code(), client::ErrorCode::kRefused);
  ASSERT_TRUE(upload(client_endpoint(), task, size, 1).ok());
  client::PatternVerifier verifier(1, size);
  client::OfflineDownloader wrong_downloader(client_endpoint(), {task, kSender, size},
                                             verifier.writer());
  EXPECT_EQ(wrong_downloader.connect().code(), client::ErrorCode::kRefused);
}

class SpoiledReply : public ServerFixture,
                     public ::testing::WithParamInterface<client::ReplyFault> {};

TEST_P(SpoiledReply, IsRefusedAndNothingWrongIsStored) {
  const uint64_t size = 8 * 32768 + 3;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  client::ServeOptions spoiled;
  spoiled.fault = GetParam();
  spoiled.fault_at_segment = 2;
  const auto bad = upload(client_endpoint(), task, size, 11, spoiled);
  EXPECT_FALSE(bad.ok());

  // The honest sender then completes it, and the stored file is exact.
  const auto good = upload(client_endpoint(), task, size, 11);
  ASSERT_TRUE(good.ok()) << good.status.to_string();
  client::PatternVerifier verifier(11, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  ASSERT_TRUE(downloader.run().ok());
  EXPECT_TRUE(verifier.complete_and_correct());
}

INSTANTIATE_TEST_SUITE_P(
    Faults, SpoiledReply,
    ::testing::Values(client::ReplyFault::kShort, client::ReplyFault::kOversize,
                      client::ReplyFault::kWrongOffset, client::ReplyFault::kWrongTask,
                      client::ReplyFault::kUnrequested, client::ReplyFault::kDuplicate,
                      client::ReplyFault::kUnaligned, client::ReplyFault::kWrongSeq,
                      client::ReplyFault::kWrongUser, client::ReplyFault::kErrorResult));

// The store that syncs each file on its own (for file systems whose syncfs
// does nothing) serves the same round trip, also across a restart.
class OfflinePerFileSync : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.sync_method = storage::SyncMethod::kPerFile;
    return config;
  }
};

TEST_F(OfflinePerFileSync, UploadRestartDownloadIsByteExact) {
  const uint64_t size = 7 * 32768 + 321;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOffline);
  const auto up = upload(client_endpoint(), task, size, 9);
  ASSERT_TRUE(up.ok()) << up.status.to_string();
  EXPECT_EQ(up.final_state, FileState::kDone);

  restart_server();
  client::PatternVerifier verifier(9, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, kReceiver, size},
                                       verifier.writer());
  const auto down = downloader.run();
  ASSERT_TRUE(down.ok()) << down.status.to_string();
  EXPECT_TRUE(verifier.complete_and_correct());
}

}  // namespace
}  // namespace ttfs::testing
