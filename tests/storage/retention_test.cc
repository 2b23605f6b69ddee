// Retention: what outlives it is removed, data and metadata together, and
// nothing else is: not a younger file, not an upload being written, not a
// damaged record, and not a download already reading.
#include "storage/retention.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "storage/local_disk_store.h"
#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using namespace std::chrono_literals;
using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::TempDir;

constexpr int64_t kStart = 1800000000;  // the test's "now" when the store opens
constexpr int64_t kDay = 24 * 3600;

class RetentionTest : public ::testing::Test {
 protected:
  RetentionTest() : layout_(dir_.path()) {}

  RetentionOptions policy(std::chrono::seconds complete_for, std::chrono::seconds partial_for) {
    RetentionOptions options;
    options.complete_for = complete_for;
    options.partial_for = partial_for;
    options.clock = [this] { return now_.load(); };
    return options;
  }

  // A file as the store leaves it, written straight to the layout so that
  // every time in its record is the test's to choose.
  FileMeta put(bool complete, int64_t created, int64_t completed, uint64_t size = 1000) {
    FileMeta meta = make_meta(size);
    meta.created_at_unix = created;
    meta.complete = complete;
    meta.completed_at_unix = complete ? completed : 0;
    if (complete) meta = testing::with_checksums(meta, pattern_bytes(7, size));
    std::filesystem::create_directories(layout_.shard_dir(meta.task_id));
    std::ofstream(layout_.data_path(meta.task_id), std::ios::binary)
        .write(reinterpret_cast<const char*>(pattern_bytes(7, size).data()),
               static_cast<std::streamsize>(size));
    EXPECT_EQ(overwrite_meta_file(layout_, meta), 0);
    return meta;
  }

  bool data_on_disk(const TaskId& id) const {
    return std::filesystem::exists(layout_.data_path(id));
  }
  bool meta_on_disk(const TaskId& id) const {
    return std::filesystem::exists(layout_.meta_path(id));
  }
  bool on_disk(const TaskId& id) const { return data_on_disk(id) || meta_on_disk(id); }

  TempDir dir_;
  StoreLayout layout_;
  std::atomic<int64_t> now_{kStart};
};

const RetentionSweeper::InUse kNothingInUse = [](const TaskId&) { return false; };

TEST_F(RetentionTest, ACompleteFileGoesWhenItsRetentionHasPassedSinceItsCompletion) {
  RetentionSweeper sweeper(layout_, policy(7s * kDay, 0s));
  const FileMeta old_file = put(true, kStart - 30 * kDay, kStart - 8 * kDay);
  // Created long ago, but completed only yesterday: its week has not passed.
  const FileMeta slow_upload = put(true, kStart - 30 * kDay, kStart - kDay);
  const FileMeta at_the_limit = put(true, kStart - 7 * kDay, kStart - 7 * kDay + 1);

  const SweepResult swept = sweeper.sweep_all(kNothingInUse);
  EXPECT_EQ(swept.expired_complete, 1u);
  EXPECT_EQ(swept.expired_partial, 0u);
  EXPECT_EQ(swept.errors, 0u);
  EXPECT_FALSE(on_disk(old_file.task_id)) << "data and metadata go together";
  EXPECT_TRUE(data_on_disk(slow_upload.task_id) && meta_on_disk(slow_upload.task_id));
  EXPECT_TRUE(data_on_disk(at_the_limit.task_id) && meta_on_disk(at_the_limit.task_id));

  now_ += 1;
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_complete, 1u);
  EXPECT_FALSE(on_disk(at_the_limit.task_id));
  EXPECT_TRUE(on_disk(slow_upload.task_id));
}

TEST_F(RetentionTest, AFileStoredBeforeCompletionTimesWereKeptCountsFromItsCreation) {
  RetentionSweeper sweeper(layout_, policy(7s * kDay, 0s));
  const FileMeta old_file = put(true, kStart - 8 * kDay, 0);
  const FileMeta young_file = put(true, kStart - 6 * kDay, 0);
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_complete, 1u);
  EXPECT_FALSE(on_disk(old_file.task_id));
  EXPECT_TRUE(on_disk(young_file.task_id));
}

TEST_F(RetentionTest, AnUnfinishedUploadGetsItsWholeRetentionFromTheStoreStart) {
  // Both were begun long before this start (the server was down meanwhile):
  // their senders get the full day from now to come back.
  const FileMeta left_by_a_crash = put(false, kStart - 10 * kDay, 0);
  const FileMeta recent = put(false, kStart + 3600, 0);
  RetentionSweeper sweeper(layout_, policy(0s, 1s * kDay));

  now_ = kStart + kDay - 1;
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_partial, 0u);
  EXPECT_TRUE(on_disk(left_by_a_crash.task_id));

  now_ = kStart + kDay;
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_partial, 1u);
  EXPECT_FALSE(on_disk(left_by_a_crash.task_id));
  EXPECT_TRUE(on_disk(recent.task_id)) << "created after the start: counted from its creation";

  now_ = kStart + 3600 + kDay;
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_partial, 1u);
  EXPECT_FALSE(on_disk(recent.task_id));
}

TEST_F(RetentionTest, AnUploadBeingWrittenIsNeverTouched) {
  const FileMeta writing = put(false, kStart - 10 * kDay, 0);
  const FileMeta abandoned = put(false, kStart - 10 * kDay, 0);
  RetentionSweeper sweeper(layout_, policy(0s, 1s));
  now_ += 10 * kDay;
  const SweepResult swept =
      sweeper.sweep_all([&](const TaskId& id) { return id == writing.task_id; });
  EXPECT_EQ(swept.expired_partial, 1u);
  EXPECT_TRUE(data_on_disk(writing.task_id) && meta_on_disk(writing.task_id));
  EXPECT_FALSE(on_disk(abandoned.task_id));
}

TEST_F(RetentionTest, ZeroKeepsForever) {
  const FileMeta complete = put(true, 1, 1);
  const FileMeta partial = put(false, 1, 0);
  RetentionSweeper keep_all(layout_, policy(0s, 0s));
  RetentionSweeper partials_only(layout_, policy(0s, 1s));
  now_ += 100 * 365 * kDay;
  EXPECT_EQ(keep_all.sweep_all(kNothingInUse).expired_complete, 0u);
  const SweepResult swept = partials_only.sweep_all(kNothingInUse);
  EXPECT_EQ(swept.expired_complete, 0u);
  EXPECT_EQ(swept.expired_partial, 1u);
  EXPECT_TRUE(on_disk(complete.task_id));
  EXPECT_FALSE(on_disk(partial.task_id));
}

TEST_F(RetentionTest, WhatACrashDamagedStaysAPartialRetentionAfterTheStartThenGoes) {
  const FileMeta torn = put(false, 1, 0);
  std::filesystem::resize_file(layout_.meta_path(torn.task_id), 20);
  const TaskId orphan = TaskId::generate();
  std::filesystem::create_directories(layout_.shard_dir(orphan));
  std::ofstream(layout_.data_path(orphan)) << "no metadata";
  const FileMeta writing = put(false, 1, 0);
  std::filesystem::resize_file(layout_.meta_path(writing.task_id), 20);
  const auto stray = layout_.shard_dir(orphan) / "notes.txt";
  std::ofstream(stray) << "an operator's";
  const auto in_use = [&](const TaskId& id) { return id == writing.task_id; };

  RetentionSweeper sweeper(layout_, policy(1s * kDay, 1s * kDay));
  now_ += kDay - 1;
  EXPECT_EQ(sweeper.sweep_all(in_use).expired_damaged, 0u) << "kept for the operator";
  EXPECT_TRUE(data_on_disk(torn.task_id) && meta_on_disk(torn.task_id));
  EXPECT_TRUE(data_on_disk(orphan));

  now_ += 1;
  const SweepResult swept = sweeper.sweep_all(in_use);
  EXPECT_EQ(swept.expired_damaged, 2u);
  EXPECT_EQ(swept.expired_complete + swept.expired_partial + swept.errors, 0u);
  EXPECT_FALSE(on_disk(torn.task_id));
  EXPECT_FALSE(on_disk(orphan));
  EXPECT_TRUE(data_on_disk(writing.task_id) && meta_on_disk(writing.task_id))
      << "the writer's own upload is never touched";
  EXPECT_TRUE(std::filesystem::exists(stray)) << "not a task's file: not ours to remove";

  RetentionSweeper keep_partials(layout_, policy(1s, 0s));
  now_ += 100 * 365 * kDay;
  const FileMeta torn_later = put(true, 1, 1);
  std::filesystem::resize_file(layout_.meta_path(torn_later.task_id), 20);
  EXPECT_EQ(keep_partials.sweep_all(kNothingInUse).expired_damaged, 0u)
      << "without a partial retention, damaged files are kept";
  EXPECT_TRUE(on_disk(torn_later.task_id));
}

TEST_F(RetentionTest, ARecordWhoseDataACrashAlreadyRemovedIsRemovedToo) {
  // The sweep removes data first; a crash before the metadata went leaves this.
  const FileMeta half_removed = put(true, kStart - 9 * kDay, kStart - 8 * kDay);
  std::filesystem::remove(layout_.data_path(half_removed.task_id));
  RetentionSweeper sweeper(layout_, policy(7s * kDay, 0s));
  EXPECT_EQ(sweeper.sweep_all(kNothingInUse).expired_complete, 1u);
  EXPECT_FALSE(on_disk(half_removed.task_id));
}

TEST_F(RetentionTest, StepsWalkOneShardAtATimeAndCatchUp) {
  std::set<std::string> shards;
  std::vector<FileMeta> files;
  while (shards.size() < 3) {
    files.push_back(put(true, 1, 1));
    shards.insert(files.back().task_id.shard_prefix());
  }
  now_ += kDay;
  RetentionOptions options = policy(1s, 0s);
  options.sweep_period = 256s;  // one shard a second
  RetentionSweeper sweeper(layout_, options);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1000h;

  EXPECT_EQ(sweeper.step_if_due(t0, kNothingInUse).expired_complete, 0u)
      << "the first step waits its turn";
  EXPECT_EQ(sweeper.step_if_due(t0 + 500ms, kNothingInUse).expired_complete, 0u) << "not due yet";
  size_t removed = 0;
  for (int second = 1; second <= 255; ++second) {
    removed +=
        sweeper.step_if_due(t0 + std::chrono::seconds(second), kNothingInUse).expired_complete;
  }
  // Shards 00..fe have had their step; the last one is due a second later.
  const bool last_shard_used = shards.contains("ff");
  const size_t in_last_shard =
      static_cast<size_t>(std::count_if(files.begin(), files.end(), [](const FileMeta& f) {
        return f.task_id.shard_prefix() == "ff";
      }));
  EXPECT_EQ(removed, files.size() - (last_shard_used ? in_last_shard : 0));
  removed += sweeper.step_if_due(t0 + 256s, kNothingInUse).expired_complete;
  EXPECT_EQ(removed, files.size());
  for (const FileMeta& f : files) EXPECT_FALSE(on_disk(f.task_id));

  // A writer held up for a whole pass sweeps each shard once, not more.
  files.push_back(put(true, 1, 1));
  EXPECT_EQ(sweeper.step_if_due(t0 + 10000s, kNothingInUse).expired_complete, 1u);
  EXPECT_FALSE(on_disk(files.back().task_id));
}

// The store itself: the disk writer stamps each file's completion with the
// clock, sweeps on its own thread, and spares the upload it is writing.
class StoreRetentionTest : public RetentionTest {
 protected:
  std::unique_ptr<LocalDiskStore> open_store(std::chrono::seconds complete_for,
                                             std::chrono::seconds partial_for) {
    LocalDiskStore::Options options;
    options.retention = policy(complete_for, partial_for);
    options.retention.sweep_period = 256ms;
    return std::make_unique<LocalDiskStore>(dir_.path(), collector_.sink(), options);
  }

  FileMeta upload(LocalDiskStore& store, uint64_t size, uint64_t seed) {
    FileMeta meta = make_meta(size);
    meta.created_at_unix = now_.load();
    store.begin_upload(0, meta);
    store.write_segment(0, meta.task_id, 0, pattern_payload(seed, 0, size));
    store.finalize_upload(0, meta);
    expected_ += 3;
    EXPECT_TRUE(collector_.wait_for(expected_));
    return meta;
  }

  // Polls, as the sweep runs on the writer's thread at its own pace.
  template <typename Predicate>
  static bool eventually(Predicate done) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }
  bool gone_eventually(const TaskId& id) const {
    return eventually([&] { return !on_disk(id); });
  }

  Collector collector_;
  size_t expected_ = 0;
};

TEST_F(StoreRetentionTest, TheWriterRecordsCompletionTimesAndSweepsWhatExpires) {
  auto store = open_store(3600s, 3600s);
  store->start();
  const FileMeta file = upload(*store, 5000, 1);
  const auto stored = store->lookup_complete(file.task_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->completed_at_unix, kStart);

  // Begun, partly written, and held open by the writer as a worker's upload.
  FileMeta writing = make_meta(4 * 32768);
  writing.created_at_unix = kStart;
  store->begin_upload(0, writing);
  store->write_segment(0, writing.task_id, 0, pattern_payload(2, 0, 32768));
  expected_ += 2;
  ASSERT_TRUE(collector_.wait_for(expected_));

  now_ += 3600;
  EXPECT_TRUE(gone_eventually(file.task_id));
  EXPECT_FALSE(store->lookup_complete(file.task_id));
  EXPECT_TRUE(data_on_disk(writing.task_id) && meta_on_disk(writing.task_id));
  EXPECT_TRUE(eventually([&] { return store->stats().expired == 1; }));

  // It finishes, long after its partial retention would have passed.
  for (uint64_t at = 32768; at < 4 * 32768; at += 32768) {
    store->write_segment(0, writing.task_id, at, pattern_payload(2, at, 32768));
  }
  store->finalize_upload(0, writing);
  expected_ += 4;
  ASSERT_TRUE(collector_.wait_for(expected_));
  for (const auto& c : collector_.all()) EXPECT_EQ(c.error, 0) << c.task_id.str();
  EXPECT_TRUE(store->lookup_complete(writing.task_id));
}

TEST_F(StoreRetentionTest, AReaderOpenedBeforeTheSweepReadsToTheEnd) {
  auto store = open_store(60s, 0s);
  store->start();
  const uint64_t size = 6 * 32768 + 5;
  const FileMeta file = upload(*store, size, 3);
  auto reader = store->open_reader(file.task_id);
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> got(size);
  ASSERT_EQ(reader->read_at(0, std::span(got).first(32768)), 0);

  now_ += 61;
  ASSERT_TRUE(gone_eventually(file.task_id));
  EXPECT_EQ(store->open_reader(file.task_id), nullptr) << "no new reader after the sweep";
  ASSERT_EQ(reader->read_at(32768, std::span(got).subspan(32768)), 0);
  EXPECT_EQ(got, pattern_bytes(3, size));
}

TEST_F(StoreRetentionTest, AResumeAfterThePartialUploadExpiredIsRefusedNotHoled) {
  FileMeta record = put(false, kStart - kDay, 0);
  record.durable_bytes = 1000;  // what the worker read before the sweep came
  ASSERT_EQ(overwrite_meta_file(layout_, record), 0);
  {
    auto store = open_store(0s, 60s);
    store->start();
    now_ += 61;
    ASSERT_TRUE(gone_eventually(record.task_id));
    store->begin_upload(0, record);
    ASSERT_TRUE(collector_.wait_for(1));
  }
  const auto begun = collector_.of_kind(DiskCompletion::Kind::kBegun);
  ASSERT_EQ(begun.size(), 1u);
  EXPECT_EQ(begun[0].error, ESTALE);
}

}  // namespace
}  // namespace ttfs::storage
