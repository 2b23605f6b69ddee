// Power cuts: the real store on a simulated disk that forgets everything not
// synced (and, in a second mode, keeps an arbitrary part of it), with the cut
// placed at every step of a run of uploads in turn. After each cut: every
// upload told DONE downloads byte-exact, nothing unfinished is served as
// finished, a recorded resume point is backed by the right bytes, and every
// upload not told DONE can still be sent again to completion.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "sim_file_system.h"
#include "storage/local_disk_store.h"
#include "storage/recovery.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::SimFileSystem;

constexpr size_t kSegment = 32768;
const std::filesystem::path kRoot = "/disk/store";

struct Upload {
  FileMeta meta;
  uint64_t seed;
  std::vector<uint8_t> bytes() const { return pattern_bytes(seed, meta.file_size); }
};

// Page-aligned like the IO thread places a segment, so the writer takes its
// O_DIRECT path for whole pages and the buffered one for a tail.
Payload segment_of(const Upload& u, uint64_t offset) {
  const size_t length =
      static_cast<size_t>(std::min<uint64_t>(kSegment, u.meta.file_size - offset));
  Bytes block = Bytes::aligned(length, 0, kPayloadAlignment);
  const auto all = u.bytes();
  std::memcpy(block.data(), all.data() + offset, length);
  return Payload{std::move(block), 0, length, std::nullopt};
}

// How the store under test syncs, and whether the disk's syncfs does
// anything (on FUSE file systems other than virtiofs it does not).
struct DiskSetup {
  SyncMethod method;
  bool syncfs_ignored;
  const char* name;
};
const DiskSetup kSyncfs{SyncMethod::kFileSystem, false, "Syncfs"};
const DiskSetup kPerFile{SyncMethod::kPerFile, false, "PerFile"};
const DiskSetup kPerFileWhereSyncfsDoesNothing{SyncMethod::kPerFile, true,
                                               "PerFileWhereSyncfsDoesNothing"};
// Set by each test before it starts; every helper below builds its stores
// and disks from it, so the same runs check each setup.
DiskSetup setup_under_test = kSyncfs;

LocalDiskStore::Options on(SimFileSystem& fs) {
  fs.ignore_sync_all(setup_under_test.syncfs_ignored);
  LocalDiskStore::Options options;
  options.file_system = &fs;
  options.sync_method = setup_under_test.method;
  // No checkpoints on a clock: the one at stop() makes them happen at the
  // same step of every run.
  options.checkpoint_interval = std::chrono::hours(1);
  return options;
}

// The store driven one op at a time, each awaited, so that a run takes the
// same steps every time and a crash can be placed at any one of them.
class OneOpAtATime {
 public:
  explicit OneOpAtATime(SimFileSystem& fs) : store_(kRoot, collector_.sink(), on(fs)) {
    recover(StoreLayout(kRoot, fs));
    store_.start();
  }

  LocalDiskStore& store() { return store_; }
  int begin(const FileMeta& meta) {
    return await([&] { store_.begin_upload(0, meta); });
  }
  int write(const Upload& u, uint64_t offset) {
    return await([&] { store_.write_segment(0, u.meta.task_id, offset, segment_of(u, offset)); });
  }
  int finalize(const FileMeta& meta) {
    return await([&] { store_.finalize_upload(0, meta); });
  }
  int abort(const TaskId& id) {
    return await([&] { store_.abort_upload(0, id); });
  }

  // Sends the upload from `from` to its end and finalizes it; 0 if told DONE.
  int send_rest(const Upload& u, uint64_t from) {
    if (const int err = begin(u.meta); err != 0) return err;
    for (uint64_t at = from; at < u.meta.file_size; at += kSegment) {
      if (const int err = write(u, at); err != 0) return err;
    }
    return finalize(u.meta);
  }

 private:
  template <typename Issue>
  int await(Issue issue) {
    issue();
    if (!collector_.wait_for(++expected_, std::chrono::seconds(20))) return ETIMEDOUT;
    return collector_.all().back().error;
  }

  Collector collector_;
  LocalDiskStore store_;
  size_t expected_ = 0;
};

struct UploadRun {
  std::vector<Upload> uploads;  // A, B, C: sent to the end; D: aborted
  std::set<TaskId> told_done;
};

UploadRun make_run() {
  UploadRun run;
  run.uploads.push_back({make_meta(3 * kSegment + 1000, "a.bin"), 11});
  run.uploads.push_back({make_meta(4 * kSegment, "b.bin"), 12});
  run.uploads.push_back({make_meta(0, "c.bin"), 13});
  run.uploads.push_back({make_meta(kSegment, "d.bin"), 14});
  return run;
}

// Everything an upload goes through: out-of-order segments, a buffered tail,
// an empty file, an abort, a stop that checkpoints an unfinished upload, and
// its resumption by the next start.
void play(SimFileSystem& fs, UploadRun& run) {
  const Upload& a = run.uploads[0];
  const Upload& b = run.uploads[1];
  const Upload& c = run.uploads[2];
  const Upload& d = run.uploads[3];
  {
    OneOpAtATime s(fs);
    if (s.begin(a.meta) == 0) {
      for (uint64_t i : {1, 0, 3, 2}) s.write(a, i * kSegment);
      if (s.finalize(a.meta) == 0) run.told_done.insert(a.meta.task_id);
    }
    if (s.begin(b.meta) == 0) {
      s.write(b, 0);
      s.write(b, kSegment);
    }
    if (s.send_rest(c, 0) == 0) run.told_done.insert(c.meta.task_id);
    if (s.begin(d.meta) == 0) s.write(d, 0);
    s.abort(d.meta.task_id);
  }  // stop(): B's two segments are checkpointed
  {
    OneOpAtATime s(fs);
    const auto partial = s.store().lookup_partial(b.meta.task_id);
    if (s.send_rest(b, partial ? partial->durable_bytes : 0) == 0) {
      run.told_done.insert(b.meta.task_id);
    }
  }
}

std::vector<uint8_t> read_through_store(LocalDiskStore& store, const TaskId& id) {
  auto reader = store.open_reader(id);
  if (!reader) return {};
  const uint64_t size = reader->meta().file_size;
  std::vector<uint8_t> out;
  Bytes buffer = Bytes::aligned(kSegment, 0, kPayloadAlignment);
  for (uint64_t at = 0; at < size; at += kSegment) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kSegment, size - at));
    if (reader->read_at(at, {buffer.data(), n}) != 0) return {};
    out.insert(out.end(), buffer.data(), buffer.data() + n);
  }
  return out;
}

// What must hold after any power cut; `where` names the cut in failures.
void check_after_cut(SimFileSystem& fs, const UploadRun& run, const std::string& where) {
  const RecoveryReport report = recover(StoreLayout(kRoot, fs));
  LocalDiskStore store(kRoot, nullptr, on(fs));  // never started: lookups only
  for (size_t i = 0; i < run.uploads.size(); ++i) {
    const Upload& u = run.uploads[i];
    const TaskId& id = u.meta.task_id;
    const bool aborted = i == 3;
    const auto complete = store.lookup_complete(id);
    if (run.told_done.contains(id)) {
      ASSERT_TRUE(complete.has_value())
          << where << ": upload " << i << " was told DONE and is lost";
    }
    if (complete) {
      ASSERT_FALSE(aborted) << where << ": an aborted upload is served as complete";
      ASSERT_TRUE(read_through_store(store, id) == u.bytes())
          << where << ": upload " << i << " is served as complete with wrong bytes";
      continue;
    }
    const auto partial = store.lookup_partial(id);
    if (partial && partial->durable_bytes > 0) {
      const auto on_disk = fs.contents(store.layout().data_path(id));
      ASSERT_TRUE(on_disk.has_value()) << where;
      const auto expected = u.bytes();
      ASSERT_TRUE(std::equal(expected.begin(),
                             expected.begin() + static_cast<long>(partial->durable_bytes),
                             on_disk->begin()))
          << where << ": upload " << i << " would resume after " << partial->durable_bytes
          << " bytes that are not what was sent";
    }
  }
  // Recovery, which runs first at a start, counts them too.
  EXPECT_GE(report.complete, run.told_done.size()) << where;
}

// Every upload the cut left unfinished is sent again, from its resume point
// if it has one, and must then complete byte-exact.
void check_resumable(SimFileSystem& fs, const UploadRun& run, const std::string& where) {
  OneOpAtATime s(fs);
  for (size_t i = 0; i < 3; ++i) {
    const Upload& u = run.uploads[i];
    if (s.store().lookup_complete(u.meta.task_id)) continue;
    const auto partial = s.store().lookup_partial(u.meta.task_id);
    ASSERT_EQ(s.send_rest(u, partial ? partial->durable_bytes : 0), 0)
        << where << ": upload " << i << " cannot be sent again";
    ASSERT_TRUE(read_through_store(s.store(), u.meta.task_id) == u.bytes()) << where;
  }
}

uint64_t steps_of_a_whole_run() {
  SimFileSystem fs;
  UploadRun run = make_run();
  play(fs, run);
  EXPECT_EQ(run.told_done.size(), 3u) << "without a cut, A, B and C all complete";
  return fs.steps();
}

class PowerCut : public ::testing::TestWithParam<DiskSetup> {
 protected:
  void SetUp() override { setup_under_test = GetParam(); }
};

TEST_P(PowerCut, WithoutACutEveryUploadCompletesAndSurvivesTheCutAfterwards) {
  SimFileSystem fs;
  UploadRun run = make_run();
  play(fs, run);
  ASSERT_EQ(run.told_done.size(), 3u);
  fs.power_cut(SimFileSystem::PowerCut::kLoseUnsynced);
  check_after_cut(fs, run, "a cut after the run");
}

TEST_P(PowerCut, AtEveryStepNothingToldDoneIsLostAndNothingWrongIsServed) {
  const uint64_t steps = steps_of_a_whole_run();
  ASSERT_GT(steps, 30u);
  size_t lost_nothing = 0;
  for (uint64_t k = 1; k <= steps; ++k) {
    for (const auto mode :
         {SimFileSystem::PowerCut::kLoseUnsynced, SimFileSystem::PowerCut::kKeepRandomUnsynced}) {
      const bool random = mode == SimFileSystem::PowerCut::kKeepRandomUnsynced;
      const std::string where = "cut at step " + std::to_string(k) + " of " +
                                std::to_string(steps) + (random ? " keeping some" : "");
      SimFileSystem fs;
      fs.crash_at_step(k);
      UploadRun run = make_run();
      play(fs, run);
      fs.power_cut(mode, k);
      check_after_cut(fs, run, where);
      check_resumable(fs, run, where);
      if (::testing::Test::HasFatalFailure()) return;
      ++lost_nothing;
    }
  }
  std::printf("POWER-CUT %s steps=%llu cuts=%zu lost=0\n", GetParam().name,
              static_cast<unsigned long long>(steps), lost_nothing);
}

// Many uploads at once, so that writes merge and finalizes share a group
// commit; the cut falls at a random step, and some unsynced pages survive.
TEST_P(PowerCut, ConcurrentUploadsCutAtRandomStepsLoseNothingToldDone) {
  constexpr int kRounds = 40;
  constexpr int kUploads = 6;
  std::mt19937_64 rng(20261125);
  for (int round = 0; round < kRounds; ++round) {
    SimFileSystem fs;
    std::vector<Upload> uploads;
    for (int i = 0; i < kUploads; ++i) {
      uploads.push_back({make_meta(rng() % (5 * kSegment) + 1), rng()});
    }
    // Such a run takes from about 20 to 60 steps; a cut past its end leaves
    // it whole, which must then survive the power cut entirely.
    const uint64_t cut = rng() % 60 + 1;
    fs.crash_at_step(cut);
    std::set<TaskId> told_done;
    {
      Collector collector;
      LocalDiskStore store(kRoot, collector.sink(), on(fs));
      store.start();
      size_t expected = 0;
      for (const Upload& u : uploads) {
        store.begin_upload(0, u.meta);
        ++expected;
        for (uint64_t at = 0; at < u.meta.file_size; at += kSegment, ++expected) {
          store.write_segment(0, u.meta.task_id, at, segment_of(u, at));
        }
      }
      for (const Upload& u : uploads) store.finalize_upload(0, u.meta);
      expected += kUploads;
      ASSERT_TRUE(collector.wait_for(expected, std::chrono::seconds(20)));
      for (const DiskCompletion& c : collector.of_kind(DiskCompletion::Kind::kFinalized)) {
        if (c.error == 0) told_done.insert(c.task_id);
      }
      store.stop();
    }
    fs.power_cut(SimFileSystem::PowerCut::kKeepRandomUnsynced, rng());
    recover(StoreLayout(kRoot, fs));
    LocalDiskStore check(kRoot, nullptr, on(fs));
    for (const Upload& u : uploads) {
      const auto complete = check.lookup_complete(u.meta.task_id);
      if (told_done.contains(u.meta.task_id)) {
        ASSERT_TRUE(complete.has_value()) << "round " << round << ", cut at step " << cut;
      }
      if (complete) {
        ASSERT_TRUE(read_through_store(check, u.meta.task_id) == u.bytes())
            << "round " << round << ", cut at step " << cut;
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Syncs, PowerCut,
                         ::testing::Values(kSyncfs, kPerFile, kPerFileWhereSyncfsDoesNothing),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// The control: the store that relies on syncfs, on a disk whose syncfs does
// nothing, loses uploads it told DONE at a cut. So the runs above would see
// such a loss, and a FUSE store needs SyncMethod::kPerFile.
TEST(PowerCutControl, RelyingOnSyncfsWhereItDoesNothingLosesUploadsToldDone) {
  setup_under_test = {SyncMethod::kFileSystem, true, "SyncfsThatDoesNothing"};
  SimFileSystem fs;
  UploadRun run = make_run();
  play(fs, run);
  ASSERT_EQ(run.told_done.size(), 3u);
  fs.power_cut(SimFileSystem::PowerCut::kLoseUnsynced);
  recover(StoreLayout(kRoot, fs));
  LocalDiskStore store(kRoot, nullptr, on(fs));
  size_t lost = 0;
  for (const TaskId& id : run.told_done) lost += !store.lookup_complete(id).has_value();
  EXPECT_GT(lost, 0u);
  setup_under_test = kSyncfs;
}

}  // namespace
}  // namespace ttfs::storage
