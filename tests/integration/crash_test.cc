// kill -9 at random moments during many concurrent uploads, then a restart on
// the same store: every upload that was told DONE must download byte-exact,
// nothing unfinished may be served as finished, and the server must start
// whatever it finds and say what it found. TTFS_CRASH_ROUNDS sets the number
// of kills (default 24, bounded for CI; raise it for a longer run by hand).
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"
#include "common/task_id.h"
#include "daemon.h"
#include "storage/meta_io.h"
#include "storage/store_layout.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;

constexpr uint32_t kSender = 7;
constexpr uint32_t kReceiver = 8;
constexpr int kUploaders = 8;
// Around the segment size and the window, and one beyond a whole window.
constexpr uint64_t kSizes[] = {1, 4096, 32768, 32769, 200000, 1024 * 1024 + 7};

struct Upload {
  std::string task_id;
  uint64_t size = 0;
  uint64_t seed = 0;
};

struct Tally {
  std::mutex mu;
  std::vector<Upload> started;  // logged in, not (yet) told DONE
  std::vector<Upload> done;     // told DONE
};

// One simulated sender: creates tasks and uploads them until told to stop
// or until the server is gone.
void upload_until_stopped(const Daemon& daemon, uint64_t first_seed, const std::atomic<bool>& stop,
                          Tally& tally) {
  std::mt19937_64 rng(first_seed);
  for (uint64_t seed = first_seed; !stop.load(); seed += kUploaders) {
    auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
    if (!msg.ok()) return;
    const uint64_t size = kSizes[rng() % std::size(kSizes)];
    auto reply = msg->create_task({kSender, kReceiver, "crash.bin", static_cast<uint32_t>(size),
                                   TransferMode::kOffline, std::nullopt});
    if (!reply.ok() || !reply->ok()) return;
    const Upload upload{*reply->task_id, size, seed};
    {
      std::lock_guard lock(tally.mu);
      tally.started.push_back(upload);
    }
    client::OfflineUploader up(daemon.client_endpoint(), {upload.task_id, kSender, size},
                               client::PatternSource(seed).reader());
    if (!up.run().ok()) return;
    std::lock_guard lock(tally.mu);
    std::erase_if(tally.started, [&](const Upload& u) { return u.task_id == upload.task_id; });
    tally.done.push_back(upload);
  }
}

enum class Served { kExact, kRefused, kWrong };

Served download(const Daemon& daemon, const Upload& upload) {
  client::PatternVerifier verifier(upload.seed, upload.size);
  client::OfflineDownloader down(daemon.client_endpoint(), {upload.task_id, kReceiver, upload.size},
                                 verifier.writer());
  const bool ok = down.run().ok();
  if (ok && verifier.complete_and_correct()) return Served::kExact;
  // Refused, or cut before the end with every byte so far right: not served
  // as complete. Anything that arrived wrong is a failure either way.
  if (verifier.first_mismatch() >= 0) return Served::kWrong;
  return ok ? Served::kWrong : Served::kRefused;
}

int rounds() {
  const char* env = std::getenv("TTFS_CRASH_ROUNDS");
  const int n = env != nullptr ? std::atoi(env) : 0;
  return n > 0 ? n : 24;
}

TEST(Crash, KillNineNeverLosesAnUploadToldDone) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ttfs-crash-" + std::to_string(::getpid()));
  const auto log = dir.string() + ".log";
  std::filesystem::remove_all(dir);
  std::mt19937 rng(20261125);

  std::vector<Upload> told_done;   // across all rounds
  std::vector<Upload> unfinished;  // killed before DONE, across all rounds
  size_t verified_up_to = 0;       // told_done[0, this) were checked in an earlier round
  uint64_t bytes_verified = 0, bytes_verified_at_end = 0;
  uint64_t lost = 0, served_wrong = 0, finished_untold = 0;
  const int kills = rounds();
  for (int round = 0; round <= kills; ++round) {
    Daemon daemon(dir, log, "info");
    ASSERT_TRUE(daemon.started()) << "round " << round << ":\n" << daemon.output();
    // The restart says what it found.
    EXPECT_NE(daemon.output().find("recovery of "), std::string::npos) << daemon.output();

    // What the last round was told DONE, a sample of what earlier rounds
    // were (a later crash must not spoil an older file either), and at the
    // end everything.
    const bool last = round == kills;
    std::vector<const Upload*> check;
    for (size_t i = verified_up_to; i < told_done.size(); ++i) check.push_back(&told_done[i]);
    for (size_t i = 0; i < verified_up_to; ++i) {
      if (last || rng() % std::max<size_t>(1, verified_up_to / 16) == 0)
        check.push_back(&told_done[i]);
    }
    verified_up_to = told_done.size();
    for (const Upload* u : check) {
      const Served s = download(daemon, *u);
      if (s == Served::kExact) {
        bytes_verified += u->size;
        if (last) bytes_verified_at_end += u->size;
      } else {
        ++lost;
        ADD_FAILURE() << "round " << round << ": " << u->task_id << " (" << u->size
                      << " bytes) was told DONE and is "
                      << (s == Served::kWrong ? "wrong" : "gone");
      }
    }
    for (const Upload& u : unfinished) {
      const Served s = download(daemon, u);
      if (s == Served::kWrong) {
        ++served_wrong;
        ADD_FAILURE() << "round " << round << ": unfinished " << u.task_id << " served wrong bytes";
      }
      if (s == Served::kExact) ++finished_untold;  // durable just before the kill
    }
    unfinished.clear();
    if (last) {
      EXPECT_EQ(daemon.stop(SIGTERM), 0);
      break;
    }

    Tally tally;
    std::atomic<bool> stop{false};
    std::vector<std::thread> uploaders;
    for (int i = 0; i < kUploaders; ++i) {
      uploaders.emplace_back(upload_until_stopped, std::cref(daemon),
                             static_cast<uint64_t>(round) * 1000003 + static_cast<uint64_t>(i) + 1,
                             std::cref(stop), std::ref(tally));
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution(50, 400)(rng)));
    daemon.kill_now();
    stop = true;
    for (auto& t : uploaders) t.join();
    told_done.insert(told_done.end(), tally.done.begin(), tally.done.end());
    unfinished = tally.started;
  }

  std::printf(
      "CRASH kills=%d uploads_told_done=%zu bytes_verified=%llu (all %llu again after the last "
      "restart) lost=%llu unfinished_served_wrong=%llu finished_but_not_told=%llu\n",
      kills, told_done.size(), static_cast<unsigned long long>(bytes_verified),
      static_cast<unsigned long long>(bytes_verified_at_end), static_cast<unsigned long long>(lost),
      static_cast<unsigned long long>(served_wrong),
      static_cast<unsigned long long>(finished_untold));
  EXPECT_GT(told_done.size(), 0u) << "no upload finished: the test proved nothing";
  EXPECT_EQ(lost, 0u);
  EXPECT_EQ(served_wrong, 0u);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(log);
}

TEST(Crash, AnUploadCutByAKillResumesAfterTheRestartFromItsCheckpoint) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ttfs-resume-" + std::to_string(::getpid()));
  const auto log = dir.string() + ".log";
  std::filesystem::remove_all(dir);
  constexpr uint64_t kSegment = 32768;
  constexpr uint64_t kSize = 2 * 1024 * 1024 + 3;  // 65 segments
  constexpr uint64_t kSegments = (kSize + kSegment - 1) / kSegment;
  constexpr uint64_t kSeed = 4242;
  std::string task_id;
  uint64_t durable = 0;
  {
    Daemon daemon(dir, log, "info");
    ASSERT_TRUE(daemon.started()) << daemon.output();
    auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
    ASSERT_TRUE(msg.ok());
    auto reply = msg->create_task({kSender, kReceiver, "resume.bin", static_cast<uint32_t>(kSize),
                                   TransferMode::kOffline, std::nullopt});
    ASSERT_TRUE(reply.ok() && reply->ok());
    task_id = *reply->task_id;
    client::ServeOptions cut;
    cut.stop_after_segments = 40;
    client::OfflineUploader up(daemon.client_endpoint(), {task_id, kSender, kSize},
                               client::PatternSource(kSeed).reader(), cut);
    ASSERT_FALSE(up.run().ok());
    // Wait for a checkpoint (once a second by default) to record progress.
    const storage::StoreLayout layout(dir);
    const TaskId id = *TaskId::parse(task_id);
    for (int i = 0; i < 200 && durable == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      const auto read = storage::read_meta_file(layout.fs(), layout.meta_path(id));
      if (read.ok()) durable = read.meta->durable_bytes;
    }
    ASSERT_GT(durable, 0u) << "no checkpoint recorded the upload's progress";
    daemon.kill_now();
  }
  Daemon daemon(dir, log, "info");
  ASSERT_TRUE(daemon.started()) << daemon.output();
  client::OfflineUploader again(daemon.client_endpoint(), {task_id, kSender, kSize},
                                client::PatternSource(kSeed).reader());
  const auto result = again.run();
  ASSERT_TRUE(result.ok()) << result.error() << "\n" << daemon.output();
  // Only what the checkpoint did not vouch for is asked for again.
  EXPECT_EQ(result.segments, kSegments - durable / kSegment);
  EXPECT_LT(result.segments, kSegments);
  EXPECT_NE(daemon.output().find("resuming an upload from before the restart"), std::string::npos);
  EXPECT_EQ(download(daemon, {task_id, kSize, kSeed}), Served::kExact);
  EXPECT_EQ(daemon.stop(SIGTERM), 0);

  // A sender that missed its DONE and comes back after another restart is
  // told DONE, and asked for nothing.
  Daemon restarted(dir, log, "info");
  ASSERT_TRUE(restarted.started()) << restarted.output();
  client::OfflineUploader late(restarted.client_endpoint(), {task_id, kSender, kSize},
                               client::PatternSource(kSeed).reader());
  const auto told = late.run();
  EXPECT_TRUE(told.ok()) << told.error();
  EXPECT_EQ(told.segments, 0u);
  EXPECT_EQ(restarted.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
  std::filesystem::remove(log);
}

}  // namespace
}  // namespace ttfs::testing
