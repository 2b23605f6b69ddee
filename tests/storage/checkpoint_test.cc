// Checkpoints: the disk writer makes unfinished uploads' progress durable and
// records it, so that a restart resumes them after what is on disk.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "storage/local_disk_store.h"
#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_payload;
using testing::TempDir;

constexpr size_t kSegment = 32768;

class CheckpointTest : public ::testing::Test {
 protected:
  static LocalDiskStore::Options every(std::chrono::milliseconds interval) {
    LocalDiskStore::Options options;
    options.checkpoint_interval = interval;
    return options;
  }

  uint64_t recorded_durable(const LocalDiskStore& store, const TaskId& id) {
    const auto read = read_meta_file(store.layout().fs(), store.layout().meta_path(id));
    EXPECT_TRUE(read.ok()) << read.describe();
    return read.ok() ? read.meta->durable_bytes : UINT64_MAX;
  }

  // Polls until the record says `bytes` (checkpoints run on their own clock).
  bool wait_for_durable(const LocalDiskStore& store, const TaskId& id, uint64_t bytes) {
    for (int i = 0; i < 500; ++i) {
      if (recorded_durable(store, id) == bytes) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  TempDir dir_;
  Collector collector_;  // declared before the stores: their threads call it
};

TEST_F(CheckpointTest, RecordsTheGaplessPrefixOnly) {
  LocalDiskStore store(dir_.path(), collector_.sink(), every(std::chrono::milliseconds(20)));
  store.start();
  FileMeta meta = make_meta(5 * kSegment);
  store.begin_upload(0, meta);
  // Segments 0, 1 and 3: the gap at 2 stops the prefix at two segments.
  for (uint64_t i : {0u, 1u, 3u}) {
    store.write_segment(0, meta.task_id, i * kSegment, pattern_payload(3, i * kSegment, kSegment));
  }
  ASSERT_TRUE(collector_.wait_for(4));
  EXPECT_TRUE(wait_for_durable(store, meta.task_id, 2 * kSegment));

  // Filling the gap joins segment 3 to the prefix.
  store.write_segment(0, meta.task_id, 2 * kSegment, pattern_payload(3, 2 * kSegment, kSegment));
  ASSERT_TRUE(collector_.wait_for(5));
  EXPECT_TRUE(wait_for_durable(store, meta.task_id, 4 * kSegment));
  EXPECT_GT(store.stats().checkpoints, 0u);

  const auto partial = store.lookup_partial(meta.task_id);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->durable_bytes, 4 * kSegment);
  EXPECT_FALSE(partial->complete);
  EXPECT_FALSE(store.lookup_complete(meta.task_id).has_value());
}

TEST_F(CheckpointTest, StopRecordsProgressAndARestartResumesFromIt) {
  FileMeta meta = make_meta(3 * kSegment + 100);
  {
    // Too rare to run by itself: only stop() records the progress.
    LocalDiskStore store(dir_.path(), collector_.sink(), every(std::chrono::hours(1)));
    store.start();
    store.begin_upload(0, meta);
    store.write_segment(0, meta.task_id, 0, pattern_payload(4, 0, kSegment));
    store.write_segment(0, meta.task_id, kSegment, pattern_payload(4, kSegment, kSegment));
    ASSERT_TRUE(collector_.wait_for(3));
    EXPECT_EQ(recorded_durable(store, meta.task_id), 0u);
    store.stop();
    EXPECT_EQ(recorded_durable(store, meta.task_id), 2 * kSegment);
  }
  LocalDiskStore store(dir_.path(), collector_.sink(), every(std::chrono::hours(1)));
  const auto partial = store.lookup_partial(meta.task_id);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->durable_bytes, 2 * kSegment);

  // The resumed upload keeps its bytes and its record: a second begin does
  // not reset what the first run made durable.
  store.start();
  store.begin_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(4));
  EXPECT_EQ(recorded_durable(store, meta.task_id), 2 * kSegment);
  store.write_segment(0, meta.task_id, 2 * kSegment, pattern_payload(4, 2 * kSegment, kSegment));
  store.write_segment(0, meta.task_id, 3 * kSegment, pattern_payload(4, 3 * kSegment, 100));
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(7));
  for (const auto& c : collector_.all()) EXPECT_EQ(c.error, 0);
  auto reader = store.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> all(meta.file_size);
  ASSERT_EQ(reader->read_at(0, all), 0);
  EXPECT_EQ(all, testing::pattern_bytes(4, meta.file_size));
  EXPECT_FALSE(store.lookup_partial(meta.task_id).has_value());
}

TEST_F(CheckpointTest, AShortDataFileVouchesForNothing) {
  FileMeta meta = make_meta(4 * kSegment);
  {
    LocalDiskStore store(dir_.path(), collector_.sink(), every(std::chrono::hours(1)));
    store.start();
    store.begin_upload(0, meta);
    store.write_segment(0, meta.task_id, 0, pattern_payload(5, 0, kSegment));
    store.write_segment(0, meta.task_id, kSegment, pattern_payload(5, kSegment, kSegment));
    ASSERT_TRUE(collector_.wait_for(3));
    store.stop();
  }
  LocalDiskStore store(dir_.path(), collector_.sink());
  std::filesystem::resize_file(store.layout().data_path(meta.task_id), kSegment);
  const auto partial = store.lookup_partial(meta.task_id);
  ASSERT_TRUE(partial.has_value());
  EXPECT_EQ(partial->durable_bytes, 0u);
}

TEST_F(CheckpointTest, NoPartialForACompleteOrUnknownTask) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(100);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 0, pattern_payload(6, 0, 100));
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(3));
  EXPECT_FALSE(store.lookup_partial(meta.task_id).has_value());
  EXPECT_FALSE(store.lookup_partial(TaskId::generate()).has_value());
}

}  // namespace
}  // namespace ttfs::storage
