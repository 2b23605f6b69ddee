#include "storage/recovery.h"

#include <gtest/gtest.h>

#include <fstream>

#include "storage/local_disk_store.h"
#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::make_meta;
using testing::TempDir;

// Lays files out by hand, as a crash could have left them.
class RecoveryTest : public ::testing::Test {
 protected:
  FileMeta put(uint64_t size, bool complete, uint64_t data_bytes) {
    FileMeta meta = make_meta(size);
    meta.complete = complete;
    std::filesystem::create_directories(layout_.shard_dir(meta.task_id));
    EXPECT_EQ(overwrite_meta_file(layout_, meta), 0);
    put_data(meta.task_id, data_bytes);
    return meta;
  }
  void put_data(const TaskId& id, uint64_t bytes) {
    std::filesystem::create_directories(layout_.shard_dir(id));
    std::ofstream(layout_.data_path(id)) << std::string(bytes, 'x');
  }

  TempDir dir_;
  StoreLayout layout_{dir_.path()};
};

TEST_F(RecoveryTest, MissingOrEmptyRoot) {
  const auto missing = recover(StoreLayout(dir_.path() / "nowhere"));
  EXPECT_EQ(missing.complete + missing.partial + missing.corrupt, 0u);
  EXPECT_TRUE(missing.problems.empty());
  const auto empty = recover(layout_);
  EXPECT_EQ(empty.complete + empty.partial + empty.corrupt, 0u);
  EXPECT_TRUE(empty.problems.empty());
}

TEST_F(RecoveryTest, ClassifiesWhatACrashLeaves) {
  const FileMeta complete = put(100, true, 100);
  const FileMeta empty_complete = put(0, true, 0);
  const FileMeta partial = put(100, false, 40);
  const FileMeta partial_no_data = make_meta(50);
  std::filesystem::create_directories(layout_.shard_dir(partial_no_data.task_id));
  ASSERT_EQ(overwrite_meta_file(layout_, partial_no_data), 0);

  // A crash between writing the temporary and renaming it.
  const FileMeta with_tmp = put(10, false, 0);
  std::ofstream(layout_.meta_tmp_path(with_tmp.task_id)) << "half";
  const TaskId tmp_only = TaskId::generate();
  std::filesystem::create_directories(layout_.shard_dir(tmp_only));
  std::ofstream(layout_.meta_tmp_path(tmp_only)) << "half";

  // Torn metadata: the rename went through but the bytes did not.
  const FileMeta torn = put(100, true, 100);
  std::filesystem::resize_file(layout_.meta_path(torn.task_id), 10);
  // Complete by its metadata, wrong size on disk.
  const FileMeta short_data = put(100, true, 99);
  const FileMeta no_data = put(100, true, 0);
  std::filesystem::remove(layout_.data_path(no_data.task_id));
  // Data with no metadata at all.
  const TaskId orphan = TaskId::generate();
  put_data(orphan, 5);
  // Something that is not ours.
  std::ofstream(dir_.path() / "README") << "hi";

  const auto report = recover(layout_);
  EXPECT_EQ(report.complete, 2u);
  EXPECT_EQ(report.partial, 3u);
  EXPECT_EQ(report.removed_temporaries, 2u);
  EXPECT_EQ(report.corrupt, 3u);
  EXPECT_EQ(report.orphan_data, 1u);
  EXPECT_EQ(report.problems.size(), 5u);  // 3 corrupt, the orphan, README
  EXPECT_EQ(report.partial_uploads.size(), 3u);
  bool found_partial = false;
  for (const auto& m : report.partial_uploads) found_partial |= m == partial;
  EXPECT_TRUE(found_partial);

  EXPECT_FALSE(std::filesystem::exists(layout_.meta_tmp_path(with_tmp.task_id)));
  EXPECT_FALSE(std::filesystem::exists(layout_.meta_tmp_path(tmp_only)));
  // Corrupt entries are reported, not deleted.
  EXPECT_TRUE(std::filesystem::exists(layout_.data_path(torn.task_id)));
  EXPECT_TRUE(std::filesystem::exists(layout_.data_path(short_data.task_id)));
  EXPECT_TRUE(std::filesystem::exists(layout_.data_path(orphan)));

  LocalDiskStore store(dir_.path(), nullptr);
  EXPECT_TRUE(store.lookup_complete(complete.task_id));
  EXPECT_TRUE(store.lookup_complete(empty_complete.task_id));
  EXPECT_FALSE(store.lookup_complete(partial.task_id));
  EXPECT_FALSE(store.lookup_complete(torn.task_id));
  EXPECT_FALSE(store.lookup_complete(short_data.task_id));
  EXPECT_FALSE(store.lookup_complete(no_data.task_id));
  EXPECT_FALSE(store.lookup_complete(orphan));

  // A second pass finds the same store, minus the temporaries.
  const auto again = recover(layout_);
  EXPECT_EQ(again.complete, 2u);
  EXPECT_EQ(again.corrupt, 3u);
  EXPECT_EQ(again.removed_temporaries, 0u);
}

TEST_F(RecoveryTest, StrayNamesInAShardAreReportedAndKept) {
  const FileMeta meta = put(10, true, 10);
  const auto shard = layout_.shard_dir(meta.task_id);
  std::ofstream(shard / "notes.txt") << "x";
  std::ofstream(shard / (TaskId::generate().str() + ".meta.tmp")) << "x";  // wrong shard, mostly
  const auto report = recover(layout_);
  EXPECT_EQ(report.complete, 1u);
  EXPECT_GE(report.problems.size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(shard / "notes.txt"));
}

}  // namespace
}  // namespace ttfs::storage
