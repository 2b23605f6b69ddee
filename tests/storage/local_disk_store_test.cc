// The synchronous read side: lookup_complete() and readers.
#include "storage/local_disk_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::TempDir;

class LocalDiskStoreTest : public ::testing::Test {
 protected:
  // Uploads one complete file of `size` pattern bytes and returns its meta.
  FileMeta upload(uint64_t size, uint64_t seed) {
    FileMeta meta = make_meta(size);
    store_.begin_upload(0, meta);
    if (size > 0) store_.write_segment(0, meta.task_id, 0, pattern_payload(seed, 0, size));
    store_.finalize_upload(0, meta);
    expected_ += size > 0 ? 3 : 2;
    EXPECT_TRUE(collector_.wait_for(expected_));
    meta.complete = true;
    meta.completed_at_unix = testing::kCompletedAt;
    return testing::with_checksums(meta, pattern_bytes(seed, size));
  }

  void SetUp() override { store_.start(); }

  TempDir dir_;
  Collector collector_;
  LocalDiskStore store_{dir_.path(), collector_.sink(), {.retention = testing::fixed_clock()}};
  size_t expected_ = 0;
};

TEST_F(LocalDiskStoreTest, UnknownIdIsNotFound) {
  EXPECT_FALSE(store_.lookup_complete(TaskId::generate()));
  EXPECT_EQ(store_.open_reader(TaskId::generate()), nullptr);
}

TEST_F(LocalDiskStoreTest, ReaderRefusesRangesPastTheEnd) {
  const FileMeta meta = upload(1000, 1);
  auto reader = store_.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  EXPECT_EQ(reader->meta(), meta);
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(reader->read_at(900, buf), 0);
  const auto all = pattern_bytes(1, 1000);
  EXPECT_TRUE(std::equal(buf.begin(), buf.end(), all.begin() + 900));
  EXPECT_EQ(reader->read_at(901, buf), EINVAL);
  EXPECT_EQ(reader->read_at(5000, buf), EINVAL);
  EXPECT_EQ(reader->read_at(~0ull - 10, buf), EINVAL);
  std::vector<uint8_t> none;
  EXPECT_EQ(reader->read_at(1000, none), 0);
}

TEST_F(LocalDiskStoreTest, ReaderOutlivesRemovalOfTheFile) {
  const FileMeta meta = upload(500, 2);
  auto reader = store_.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  store_.abort_upload(0, meta.task_id);
  ASSERT_TRUE(collector_.wait_for(expected_ + 1));
  EXPECT_FALSE(store_.lookup_complete(meta.task_id));
  std::vector<uint8_t> buf(500);
  EXPECT_EQ(reader->read_at(0, buf), 0);
  EXPECT_EQ(buf, pattern_bytes(2, 500));
}

TEST_F(LocalDiskStoreTest, SizeMismatchIsNeverServed) {
  const FileMeta shrunk = upload(1000, 3);
  std::filesystem::resize_file(store_.layout().data_path(shrunk.task_id), 999);
  EXPECT_FALSE(store_.lookup_complete(shrunk.task_id));
  EXPECT_EQ(store_.open_reader(shrunk.task_id), nullptr);

  const FileMeta grown = upload(1000, 4);
  std::filesystem::resize_file(store_.layout().data_path(grown.task_id), 1001);
  EXPECT_FALSE(store_.lookup_complete(grown.task_id));

  const FileMeta missing = upload(10, 5);
  std::filesystem::remove(store_.layout().data_path(missing.task_id));
  EXPECT_FALSE(store_.lookup_complete(missing.task_id));
}

TEST_F(LocalDiskStoreTest, MetadataOfAnotherTaskIsNotBelieved) {
  const FileMeta a = upload(10, 6);
  const TaskId b = TaskId::generate();
  std::filesystem::create_directories(store_.layout().shard_dir(b));
  std::filesystem::copy_file(store_.layout().meta_path(a.task_id), store_.layout().meta_path(b));
  std::filesystem::copy_file(store_.layout().data_path(a.task_id), store_.layout().data_path(b));
  EXPECT_TRUE(store_.lookup_complete(a.task_id));
  EXPECT_FALSE(store_.lookup_complete(b));
}

TEST_F(LocalDiskStoreTest, TornMetadataIsNotServed) {
  const FileMeta meta = upload(10, 7);
  const auto path = store_.layout().meta_path(meta.task_id);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  EXPECT_FALSE(store_.lookup_complete(meta.task_id));
  EXPECT_EQ(store_.open_reader(meta.task_id), nullptr);
}

}  // namespace
}  // namespace ttfs::storage
