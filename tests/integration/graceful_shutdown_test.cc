// ttfsd's graceful stop, against the real binary: SIGTERM refuses new
// connections at once, serves the transfers in flight until they finish or
// the grace (--shutdown-grace) runs out, stops, and exits 0; an upload cut by
// the end of the grace resumes after the restart from the durable prefix the
// stop recorded.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>

#include "client/client.h"
#include "common/task_id.h"
#include "daemon.h"
#include "storage/meta_io.h"
#include "storage/store_layout.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;
using Clock = std::chrono::steady_clock;

constexpr uint32_t kSender = 7;
constexpr uint32_t kReceiver = 8;
constexpr uint64_t kSegment = client::kSegmentSize;

// A sender's file that is read slowly, segment by segment, and that may stop
// being read after some segments until released: a slow or a stalled sender.
class PacedSource {
 public:
  PacedSource(uint64_t seed, std::chrono::milliseconds per_segment,
              uint64_t stall_after = UINT64_MAX)
      : pattern_(seed), per_segment_(per_segment), stall_after_(stall_after) {}

  client::ReadAt reader() {
    return [this](uint64_t offset, std::span<uint8_t> dst) {
      std::this_thread::sleep_for(per_segment_);
      {
        std::unique_lock lock(mu_);
        if (read_ == stall_after_) {
          stalled_ = true;
          changed_.notify_all();
          changed_.wait(lock, [this] { return released_; });
        }
      }
      pattern_.fill(offset, dst);
      std::lock_guard lock(mu_);
      ++read_;
      changed_.notify_all();
      return true;
    };
  }

  uint64_t segments_read() {
    std::lock_guard lock(mu_);
    return read_;
  }
  bool wait_until_read(uint64_t segments, std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [&] { return read_ >= segments; });
  }
  bool wait_until_stalled(std::chrono::milliseconds limit) {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, limit, [this] { return stalled_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  const client::PatternSource pattern_;
  const std::chrono::milliseconds per_segment_;
  const uint64_t stall_after_;
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t read_ = 0;
  bool stalled_ = false;
  bool released_ = false;
};

// An upload on its own thread. Whatever happens to the test, the source is
// released before the thread is joined, so a stalled sender cannot hang it.
class BackgroundUpload {
 public:
  BackgroundUpload(const Daemon& daemon, const std::string& task, uint64_t size,
                   PacedSource& source)
      : source_(source) {
    thread_ = std::thread([this, endpoint = daemon.client_endpoint(), task, size] {
      client::OfflineUploader up(endpoint, {task, kSender, size}, source_.reader());
      result_ = up.run();
    });
  }
  ~BackgroundUpload() { join(); }
  BackgroundUpload(const BackgroundUpload&) = delete;
  BackgroundUpload& operator=(const BackgroundUpload&) = delete;

  const client::TransferResult& join() {
    source_.release();
    if (thread_.joinable()) thread_.join();
    return result_;
  }

 private:
  PacedSource& source_;
  std::thread thread_;
  client::TransferResult result_;
};

std::string create(const Daemon& daemon, uint64_t size) {
  auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
  if (!msg.ok()) return {};
  auto reply = msg->create_task({kSender, kReceiver, "graceful.bin", static_cast<uint32_t>(size),
                                 TransferMode::kOffline, std::nullopt});
  return reply.ok() && reply->ok() ? *reply->task_id : std::string();
}

bool download_is_exact(const Daemon& daemon, const std::string& task, uint64_t size,
                       uint64_t seed) {
  client::PatternVerifier verifier(seed, size);
  client::OfflineDownloader down(daemon.client_endpoint(), {task, kReceiver, size},
                                 verifier.writer());
  return down.run().ok() && verifier.complete_and_correct();
}

// errno of a TCP connect to 127.0.0.1:port, 0 if it connected.
int connect_error(uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address);
  const int error = rc == 0 ? 0 : errno;
  ::close(fd);
  return error;
}

std::vector<std::string> grace_args(int seconds) {
  return {"--shutdown-grace", std::to_string(seconds)};
}

class GracefulShutdown : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() /
           ("ttfs-graceful-" + std::string(test->name()) + "-" + std::to_string(::getpid()));
    log_ = dir_.string() + ".log";
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    std::filesystem::remove_all(dir_);
    std::filesystem::remove(log_);
  }

  std::filesystem::path dir_;
  std::filesystem::path log_;
};

TEST_F(GracefulShutdown, AnUploadInFlightIsServedToItsEndWithinTheGrace) {
  constexpr uint64_t kSize = 24 * kSegment + 11;
  constexpr uint64_t kSeed = 501;
  std::string task;
  {
    Daemon daemon(dir_, log_, "info", grace_args(10));
    ASSERT_TRUE(daemon.started()) << daemon.output();
    task = create(daemon, kSize);
    ASSERT_FALSE(task.empty());
    // About a second of upload: well within the grace.
    PacedSource slow(kSeed, std::chrono::milliseconds(40));
    BackgroundUpload upload(daemon, task, kSize, slow);
    ASSERT_TRUE(slow.wait_until_read(4, std::chrono::seconds(10)));

    daemon.send(SIGTERM);
    ASSERT_TRUE(daemon.wait_for_output("no longer accepting", std::chrono::seconds(10)))
        << daemon.output();
    const uint64_t read_at_signal = slow.segments_read();
    const auto& result = upload.join();
    EXPECT_TRUE(result.ok()) << result.error() << "\n" << daemon.output();
    EXPECT_EQ(result.final_state, client::FileState::kDone);
    EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(10)), 0) << daemon.output();
    EXPECT_LT(read_at_signal, slow.segments_read()) << "nothing was served after the signal";
    EXPECT_NE(daemon.output().find("every transfer in flight has finished"), std::string::npos)
        << daemon.output();
    std::printf("GRACEFUL served %llu of %llu segments after SIGTERM; told DONE\n",
                static_cast<unsigned long long>(slow.segments_read() - read_at_signal),
                static_cast<unsigned long long>(slow.segments_read()));
  }
  Daemon restarted(dir_, log_);
  ASSERT_TRUE(restarted.started()) << restarted.output();
  EXPECT_TRUE(download_is_exact(restarted, task, kSize, kSeed));
  EXPECT_EQ(restarted.stop(SIGTERM), 0);
}

TEST_F(GracefulShutdown, AStalledUploadIsCutAfterTheGraceAndResumesAfterTheRestart) {
  constexpr int kGraceSeconds = 2;
  constexpr uint64_t kSize = 65 * kSegment - 5;
  constexpr uint64_t kSegments = 65;
  constexpr uint64_t kSentBeforeStall = 20;
  constexpr uint64_t kSeed = 502;
  std::string task;
  {
    Daemon daemon(dir_, log_, "info", grace_args(kGraceSeconds));
    ASSERT_TRUE(daemon.started()) << daemon.output();
    task = create(daemon, kSize);
    ASSERT_FALSE(task.empty());
    PacedSource stalling(kSeed, std::chrono::milliseconds(0), kSentBeforeStall);
    BackgroundUpload upload(daemon, task, kSize, stalling);
    ASSERT_TRUE(stalling.wait_until_stalled(std::chrono::seconds(10)));

    const auto signalled = Clock::now();
    daemon.send(SIGTERM);
    // The hard limit is grace + 30 s (ShutdownTimeout): a stop that took
    // anywhere near it would be a hang, not a grace.
    const int status = daemon.wait_exit(std::chrono::seconds(kGraceSeconds + 15));
    const auto took = Clock::now() - signalled;
    ASSERT_EQ(status, 0) << daemon.output();
    EXPECT_GE(took, std::chrono::seconds(kGraceSeconds));
    EXPECT_LT(took, std::chrono::seconds(kGraceSeconds + 10));
    EXPECT_NE(daemon.output().find("grace period over; cutting 1 transfer"), std::string::npos)
        << daemon.output();
    EXPECT_FALSE(upload.join().ok());
    std::printf(
        "GRACEFUL stalled upload: exit 0 after %lld ms (grace %d s)\n",
        static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()),
        kGraceSeconds);
  }
  // The stop made everything received durable and recorded it.
  const storage::StoreLayout layout(dir_);
  const auto meta = storage::read_meta_file(layout.fs(), layout.meta_path(*TaskId::parse(task)));
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(meta.meta->durable_bytes, kSentBeforeStall * kSegment);

  Daemon restarted(dir_, log_, "info");
  ASSERT_TRUE(restarted.started()) << restarted.output();
  client::OfflineUploader again(restarted.client_endpoint(), {task, kSender, kSize},
                                client::PatternSource(kSeed).reader());
  const auto result = again.run();
  ASSERT_TRUE(result.ok()) << result.error() << "\n" << restarted.output();
  EXPECT_EQ(result.segments, kSegments - meta.meta->durable_bytes / kSegment);
  EXPECT_NE(restarted.output().find("resuming an upload from before the restart"),
            std::string::npos);
  EXPECT_TRUE(download_is_exact(restarted, task, kSize, kSeed));
  EXPECT_EQ(restarted.stop(SIGTERM), 0);
  std::printf("GRACEFUL resumed from byte %llu: %llu of %llu segments sent again\n",
              static_cast<unsigned long long>(meta.meta->durable_bytes),
              static_cast<unsigned long long>(result.segments),
              static_cast<unsigned long long>(kSegments));
}

TEST_F(GracefulShutdown, ConnectsAfterTheSignalAreRefusedWhileOpenConnectionsAreServed) {
  constexpr uint64_t kSize = 8 * kSegment;
  Daemon daemon(dir_, log_, "info", grace_args(2));
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const std::string task = create(daemon, kSize);
  ASSERT_FALSE(task.empty());
  // An upload in flight keeps the daemon in its grace while the connects are tried.
  PacedSource stalling(503, std::chrono::milliseconds(0), 2);
  BackgroundUpload upload(daemon, task, kSize, stalling);
  ASSERT_TRUE(stalling.wait_until_stalled(std::chrono::seconds(10)));
  auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
  ASSERT_TRUE(msg.ok());

  daemon.send(SIGTERM);
  ASSERT_TRUE(daemon.wait_for_output("no longer accepting", std::chrono::seconds(10)))
      << daemon.output();
  EXPECT_EQ(daemon.wait_exit(std::chrono::milliseconds(0)), -1) << "it did not wait for the upload";
  EXPECT_EQ(connect_error(daemon.client_endpoint().port), ECONNREFUSED);
  EXPECT_EQ(connect_error(daemon.msg_endpoint().port), ECONNREFUSED);
  // The msg-server connection already open is still answered, with a
  // refusal: a task created now could not be started.
  auto reply =
      msg->create_task({kSender, kReceiver, "late.bin", 1, TransferMode::kOffline, std::nullopt});
  ASSERT_TRUE(reply.ok()) << reply.status().to_string();
  EXPECT_FALSE(reply->ok());
  EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(10)), 0) << daemon.output();
}

TEST_F(GracefulShutdown, ASecondSignalEndsTheGraceAtOnce) {
  constexpr uint64_t kSize = 8 * kSegment;
  Daemon daemon(dir_, log_, "info", grace_args(60));
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const std::string task = create(daemon, kSize);
  ASSERT_FALSE(task.empty());
  PacedSource stalling(504, std::chrono::milliseconds(0), 2);
  BackgroundUpload upload(daemon, task, kSize, stalling);
  ASSERT_TRUE(stalling.wait_until_stalled(std::chrono::seconds(10)));

  daemon.send(SIGTERM);
  ASSERT_TRUE(daemon.wait_for_output("waiting up to 60 s for 1 transfer", std::chrono::seconds(10)))
      << daemon.output();
  daemon.send(SIGINT);
  EXPECT_EQ(daemon.wait_exit(std::chrono::seconds(10)), 0) << daemon.output();
  EXPECT_NE(daemon.output().find("SIGINT received again"), std::string::npos) << daemon.output();
}

TEST_F(GracefulShutdown, WithoutTransfersInFlightTheStopDoesNotWaitForTheGrace) {
  Daemon daemon(dir_, log_, "info", grace_args(60));
  ASSERT_TRUE(daemon.started()) << daemon.output();
  const auto signalled = Clock::now();
  EXPECT_EQ(daemon.stop(SIGTERM), 0) << daemon.output();
  EXPECT_LT(Clock::now() - signalled, std::chrono::seconds(10));
}

}  // namespace
}  // namespace ttfs::testing
