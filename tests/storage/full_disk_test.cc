// A full disk and failing I/O: the upload that meets them fails with the
// errno, nothing it left is served as complete, the other uploads go on, and
// the store takes uploads again once space returns.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <functional>

#include "sim_file_system.h"
#include "storage/local_disk_store.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::SimFileSystem;

constexpr uint64_t kSegment = 32768;
const std::filesystem::path kRoot = "/disk/store";

class FullDiskTest : public ::testing::Test {
 protected:
  FullDiskTest() : store_(kRoot, collector_.sink(), options()) { store_.start(); }

  LocalDiskStore::Options options() {
    LocalDiskStore::Options o;
    o.file_system = &fs_;
    return o;
  }

  // Sends a whole upload and returns the errors of its writes and finalize.
  struct Outcome {
    int first_write_error = 0;
    int finalize_error = 0;
  };
  // `after_begin` runs once the upload is open, so a fault set there hits
  // its writes and finalize, not its creation.
  Outcome upload(const FileMeta& meta, uint64_t seed,
                 const std::function<void()>& after_begin = {}) {
    const size_t before = collector_.all().size();
    store_.begin_upload(0, meta);
    EXPECT_TRUE(collector_.wait_for(before + 1));
    if (after_begin) after_begin();
    size_t expected = before + 2;
    for (uint64_t at = 0; at < meta.file_size; at += kSegment, ++expected) {
      const size_t n = static_cast<size_t>(std::min(kSegment, meta.file_size - at));
      store_.write_segment(0, meta.task_id, at, pattern_payload(seed, at, n));
    }
    store_.finalize_upload(0, meta);
    EXPECT_TRUE(collector_.wait_for(expected));
    Outcome out;
    const auto all = collector_.all();
    for (size_t i = before; i < all.size(); ++i) {
      if (all[i].task_id != meta.task_id) continue;
      if (all[i].kind == DiskCompletion::Kind::kWritten && out.first_write_error == 0) {
        out.first_write_error = all[i].error;
      }
      if (all[i].kind == DiskCompletion::Kind::kFinalized) out.finalize_error = all[i].error;
    }
    return out;
  }

  void abort(const TaskId& id) {
    const size_t n = collector_.all().size();
    store_.abort_upload(0, id);
    ASSERT_TRUE(collector_.wait_for(n + 1));
  }

  bool served_exactly(const FileMeta& meta, uint64_t seed) {
    auto reader = store_.open_reader(meta.task_id);
    if (!reader) return false;
    std::vector<uint8_t> all(meta.file_size);
    return reader->read_at(0, all) == 0 && all == pattern_bytes(seed, meta.file_size);
  }

  SimFileSystem fs_;
  Collector collector_;
  LocalDiskStore store_;
};

TEST_F(FullDiskTest, AnUploadThatFillsTheDiskFailsAndTheStoreRecoversWhenSpaceReturns) {
  fs_.set_capacity(300 * 1024);
  const FileMeta small = make_meta(100 * 1024);
  ASSERT_EQ(upload(small, 1).finalize_error, 0);

  const FileMeta large = make_meta(400 * 1024);
  const Outcome failed = upload(large, 2);
  EXPECT_EQ(failed.finalize_error, ENOSPC) << "finalize reports the write's error";
  EXPECT_FALSE(store_.lookup_complete(large.task_id)) << "a partial file served as complete";
  EXPECT_GT(store_.stats().write_errors, 0u);
  EXPECT_TRUE(served_exactly(small, 1)) << "the file stored before is untouched";

  // The worker aborts a failed upload, which gives its space back.
  abort(large.task_id);
  const FileMeta next = make_meta(150 * 1024);
  ASSERT_EQ(upload(next, 3).finalize_error, 0);
  EXPECT_TRUE(served_exactly(next, 3));
}

TEST_F(FullDiskTest, WriteErrorsFailTheUploadAndClearingThemLetsTheNextOneThrough) {
  const FileMeta broken = make_meta(3 * kSegment);
  const Outcome failed = upload(broken, 4, [&] { fs_.fail_writes_with(EIO); });
  EXPECT_EQ(failed.first_write_error, EIO);
  EXPECT_EQ(failed.finalize_error, EIO) << "finalize reports the write's error";
  EXPECT_FALSE(store_.lookup_complete(broken.task_id));

  fs_.fail_writes_with(0);
  const FileMeta next = make_meta(3 * kSegment);
  ASSERT_EQ(upload(next, 5).finalize_error, 0);
  EXPECT_TRUE(served_exactly(next, 5));
}

TEST_F(FullDiskTest, ASyncThatFailsIsNeverToldDone) {
  const FileMeta meta = make_meta(2 * kSegment);
  EXPECT_EQ(upload(meta, 6, [&] { fs_.fail_syncs_with(EIO); }).finalize_error, EIO);
  EXPECT_FALSE(store_.lookup_complete(meta.task_id));
  fs_.fail_syncs_with(0);
  const FileMeta next = make_meta(2 * kSegment);
  EXPECT_EQ(upload(next, 7).finalize_error, 0);
}

}  // namespace
}  // namespace ttfs::storage
