// The disk-writer thread, driven through LocalDiskStore as the workers drive it.
#include "storage/disk_writer.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <string>

#include "sim_file_system.h"
#include "storage/local_disk_store.h"
#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using Kind = DiskCompletion::Kind;
using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::TempDir;

constexpr size_t kSegment = 32768;

std::vector<uint8_t> read_all(OfflineStore& store, const TaskId& id) {
  auto reader = store.open_reader(id);
  if (!reader) return {};
  std::vector<uint8_t> out(reader->meta().file_size);
  EXPECT_EQ(reader->read_at(0, out), 0);
  return out;
}

size_t count_errors(const std::vector<DiskCompletion>& completions) {
  return static_cast<size_t>(std::count_if(completions.begin(), completions.end(),
                                           [](const DiskCompletion& c) { return c.error != 0; }));
}

class DiskWriterTest : public ::testing::Test {
 protected:
  TempDir dir_;
  Collector collector_;  // declared before the store: the store's thread calls it
};

TEST_F(DiskWriterTest, OutOfOrderSegmentsLandAtTheirOffsets) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  const uint64_t size = 10 * kSegment + 123;  // the last segment is short
  FileMeta meta = make_meta(size);
  store.begin_upload(0, meta);
  std::vector<uint64_t> offsets;
  for (uint64_t off = 0; off < size; off += kSegment) offsets.push_back(off);
  std::shuffle(offsets.begin(), offsets.end(), std::mt19937(7));
  for (uint64_t off : offsets) {
    store.write_segment(0, meta.task_id, off,
                        pattern_payload(1, off, std::min(kSegment, size - off)));
  }
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(offsets.size() + 2));

  const auto all = collector_.all();
  EXPECT_EQ(count_errors(all), 0u);
  ASSERT_EQ(all.front().kind, Kind::kBegun);
  ASSERT_EQ(all.back().kind, Kind::kFinalized);
  const auto written = collector_.of_kind(Kind::kWritten);
  ASSERT_EQ(written.size(), offsets.size());
  std::vector<uint64_t> seen;
  for (const auto& c : written) {
    EXPECT_EQ(c.task_id, meta.task_id);
    EXPECT_EQ(c.length, std::min(kSegment, size - c.offset));
    seen.push_back(c.offset);
  }
  std::sort(seen.begin(), seen.end());
  std::sort(offsets.begin(), offsets.end());
  EXPECT_EQ(seen, offsets);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(1, size));
}

TEST_F(DiskWriterTest, AdjacentSegmentsAreCoalesced) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  constexpr size_t kSegments = 64;
  constexpr size_t kSmall = 4096;
  FileMeta meta = make_meta(kSegments * kSmall);
  // Everything is queued before the thread runs, so it arrives as one batch.
  store.begin_upload(0, meta);
  std::vector<uint64_t> order(kSegments);
  for (size_t i = 0; i < kSegments; ++i) order[i] = i * kSmall;
  std::shuffle(order.begin(), order.end(), std::mt19937(3));
  for (uint64_t off : order)
    store.write_segment(0, meta.task_id, off, pattern_payload(2, off, kSmall));
  store.finalize_upload(0, meta);
  store.start();
  ASSERT_TRUE(collector_.wait_for(kSegments + 2));

  EXPECT_EQ(count_errors(collector_.all()), 0u);
  const auto stats = store.stats();
  EXPECT_EQ(stats.segments, kSegments);
  EXPECT_LT(stats.pwritev_calls, kSegments);
  EXPECT_LE(stats.pwritev_calls, 4u) << "64 adjacent segments in one batch should merge";
  EXPECT_EQ(stats.bytes_written, kSegments * kSmall);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(2, kSegments * kSmall));
}

TEST_F(DiskWriterTest, MergingRespectsIovMax) {
  LocalDiskStore::Options options;
  options.max_batch = 4096;
  LocalDiskStore store(dir_.path(), collector_.sink(), options);
  const size_t iov_max = static_cast<size_t>(sysconf(_SC_IOV_MAX));
  const size_t segments = iov_max + iov_max / 2;
  FileMeta meta = make_meta(segments * 8);
  store.begin_upload(0, meta);
  for (size_t i = 0; i < segments; ++i) {
    store.write_segment(0, meta.task_id, i * 8, pattern_payload(14, i * 8, 8));
  }
  store.finalize_upload(0, meta);
  store.start();
  ASSERT_TRUE(collector_.wait_for(segments + 2));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  EXPECT_EQ(store.stats().pwritev_calls, 2u);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(14, segments * 8));
}

TEST_F(DiskWriterTest, OverlappingRewritesLandInIssueOrder) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  FileMeta meta = make_meta(150);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 50, pattern_payload(15, 50, 100));
  store.write_segment(0, meta.task_id, 0, pattern_payload(16, 0, 100));  // the later one wins
  store.finalize_upload(0, meta);
  store.start();
  ASSERT_TRUE(collector_.wait_for(4));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  auto expected = pattern_bytes(16, 100);
  const auto tail = pattern_bytes(15, 150);
  expected.insert(expected.end(), tail.begin() + 100, tail.end());
  EXPECT_EQ(read_all(store, meta.task_id), expected);
}

TEST_F(DiskWriterTest, APayloadViewPastItsBlockIsRefused) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(100);
  store.begin_upload(0, meta);
  Payload bogus{Bytes(10), 5, 20, std::nullopt};
  store.write_segment(0, meta.task_id, 0, std::move(bogus));
  ASSERT_TRUE(collector_.wait_for(2));
  const auto written = collector_.of_kind(Kind::kWritten);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0].error, EINVAL);
}

TEST_F(DiskWriterTest, GapsSplitTheMerge) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  FileMeta meta = make_meta(6 * 100);
  store.begin_upload(0, meta);
  // Two runs, [0,200) and [300,600), with a hole at [200,300) until later.
  for (uint64_t off : {500, 0, 400, 100, 300}) {
    store.write_segment(0, meta.task_id, off, pattern_payload(3, off, 100));
  }
  store.start();
  ASSERT_TRUE(collector_.wait_for(6));
  EXPECT_EQ(store.stats().pwritev_calls, 2u);
  store.write_segment(0, meta.task_id, 200, pattern_payload(3, 200, 100));
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(8));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(3, 600));
}

TEST_F(DiskWriterTest, CompletionsAreGroupedPerOwner) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  constexpr uint32_t kOwners = 3;
  constexpr size_t kPerOwner = 10;
  std::vector<FileMeta> metas;
  for (uint32_t owner = 0; owner < kOwners; ++owner) {
    metas.push_back(make_meta(kPerOwner * 64));
    store.begin_upload(owner, metas.back());
  }
  for (size_t i = 0; i < kPerOwner; ++i) {
    for (uint32_t owner = 0; owner < kOwners; ++owner) {
      store.write_segment(owner, metas[owner].task_id, i * 64, pattern_payload(owner, i * 64, 64));
    }
  }
  store.start();
  ASSERT_TRUE(collector_.wait_for(kOwners * (kPerOwner + 1)));

  const auto calls = collector_.calls();
  ASSERT_EQ(calls.size(), kOwners) << "one sink call per owner per batch";
  std::map<uint32_t, size_t> per_owner;
  for (const auto& call : calls) {
    per_owner[call.owner] += call.completions.size();
    for (const auto& c : call.completions) {
      EXPECT_EQ(c.task_id, metas[call.owner].task_id) << "a completion reached the wrong owner";
      EXPECT_EQ(c.error, 0);
    }
    EXPECT_EQ(call.completions.front().kind, Kind::kBegun);
  }
  for (uint32_t owner = 0; owner < kOwners; ++owner) EXPECT_EQ(per_owner[owner], kPerOwner + 1);
}

TEST_F(DiskWriterTest, FinalizesOfOneBatchShareTwoSyncs) {
  // A thousand uploads finishing together must not cost a thousand rounds of
  // fdatasync + fsync + fsync of a directory: the batch commits as a group.
  LocalDiskStore store(dir_.path(), collector_.sink());
  constexpr size_t kFiles = 40;
  std::vector<FileMeta> metas;
  size_t completions = 0;
  for (size_t f = 0; f < kFiles; ++f) {
    metas.push_back(make_meta(2 * kSegment + f));
    store.begin_upload(1, metas.back());
    completions += 2;  // begun, finalized
    for (uint64_t off = 0; off < metas.back().file_size; off += kSegment, ++completions) {
      const size_t length = std::min<uint64_t>(kSegment, metas.back().file_size - off);
      store.write_segment(1, metas.back().task_id, off, pattern_payload(f, off, length));
    }
    store.finalize_upload(1, metas.back());
  }
  store.start();  // everything queued before the thread runs: one batch
  ASSERT_TRUE(collector_.wait_for(completions));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  EXPECT_EQ(store.stats().finalized, kFiles);
  EXPECT_EQ(store.stats().syncs, 2u);
  for (size_t f = 0; f < kFiles; ++f) {
    ASSERT_TRUE(store.lookup_complete(metas[f].task_id)) << f;
    EXPECT_EQ(read_all(store, metas[f].task_id), pattern_bytes(f, metas[f].file_size));
    EXPECT_FALSE(std::filesystem::exists(store.layout().meta_tmp_path(metas[f].task_id)));
  }
}

TEST_F(DiskWriterTest, AnOpBehindAFinalizeOfItsFileSeesItCommitted) {
  // Ops of one file keep their order although finalizes wait for the end of
  // the batch: an abort queued right after a finalize finds it done and
  // removes the complete file, as it would have without the group commit.
  LocalDiskStore store(dir_.path(), collector_.sink());
  FileMeta meta = make_meta(kSegment);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 0, pattern_payload(1, 0, kSegment));
  store.finalize_upload(0, meta);
  store.abort_upload(0, meta.task_id);
  store.start();
  ASSERT_TRUE(collector_.wait_for(4));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  EXPECT_EQ(store.stats().finalized, 1u);
  EXPECT_FALSE(store.lookup_complete(meta.task_id));
  EXPECT_FALSE(std::filesystem::exists(store.layout().data_path(meta.task_id)));
}

TEST_F(DiskWriterTest, FinalizeIsDurableAndReadable) {
  LocalDiskStore::Options options;
  options.retention = testing::fixed_clock();
  LocalDiskStore store(dir_.path(), collector_.sink(), options);
  store.start();
  FileMeta meta = make_meta(3 * kSegment);
  store.begin_upload(5, meta);
  ASSERT_TRUE(collector_.wait_for(1));
  EXPECT_FALSE(store.lookup_complete(meta.task_id)) << "served before finalize";
  EXPECT_EQ(store.open_reader(meta.task_id), nullptr);
  for (uint64_t off = 0; off < meta.file_size; off += kSegment) {
    store.write_segment(5, meta.task_id, off, pattern_payload(4, off, kSegment));
  }
  store.finalize_upload(5, meta);
  ASSERT_TRUE(collector_.wait_for(5));
  EXPECT_EQ(count_errors(collector_.all()), 0u);

  auto found = store.lookup_complete(meta.task_id);
  ASSERT_TRUE(found);
  FileMeta expected = meta;
  expected.complete = true;
  expected.completed_at_unix = testing::kCompletedAt;
  EXPECT_EQ(*found, testing::with_checksums(expected, testing::pattern_bytes(4, meta.file_size)));
  EXPECT_FALSE(std::filesystem::exists(store.layout().meta_tmp_path(meta.task_id)));
  auto reader = store.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> middle(1000);
  ASSERT_EQ(reader->read_at(kSegment - 500, middle), 0);
  const auto all = pattern_bytes(4, meta.file_size);
  EXPECT_TRUE(std::equal(middle.begin(), middle.end(), all.begin() + kSegment - 500));
  EXPECT_EQ(read_all(store, meta.task_id), all);
}

TEST_F(DiskWriterTest, ZeroByteFileCompletesWithoutWrites) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(0);
  store.begin_upload(0, meta);
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(2));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  ASSERT_TRUE(store.lookup_complete(meta.task_id));
  auto reader = store.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  std::vector<uint8_t> none;
  EXPECT_EQ(reader->read_at(0, none), 0);
  std::vector<uint8_t> one(1);
  EXPECT_EQ(reader->read_at(0, one), EINVAL);
}

TEST_F(DiskWriterTest, BeginRefusesAFileAlreadyComplete) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(10);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 0, pattern_payload(5, 0, 10));
  store.finalize_upload(0, meta);
  store.begin_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(4));
  const auto all = collector_.all();
  EXPECT_EQ(all.back().kind, Kind::kBegun);
  EXPECT_EQ(all.back().error, EEXIST);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(5, 10));
}

TEST_F(DiskWriterTest, AbortRemovesTheFiles) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(2 * kSegment);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 0, pattern_payload(6, 0, kSegment));
  ASSERT_TRUE(collector_.wait_for(2));
  EXPECT_TRUE(std::filesystem::exists(store.layout().data_path(meta.task_id)));
  EXPECT_TRUE(std::filesystem::exists(store.layout().meta_path(meta.task_id)));

  store.abort_upload(0, meta.task_id);
  ASSERT_TRUE(collector_.wait_for(3));
  const auto aborted = collector_.of_kind(Kind::kAborted);
  ASSERT_EQ(aborted.size(), 1u);
  EXPECT_EQ(aborted[0].error, 0);
  EXPECT_FALSE(std::filesystem::exists(store.layout().data_path(meta.task_id)));
  EXPECT_FALSE(std::filesystem::exists(store.layout().meta_path(meta.task_id)));
  EXPECT_FALSE(store.lookup_complete(meta.task_id));
}

TEST_F(DiskWriterTest, WritesWithoutAnOpenUploadFail) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  const FileMeta unknown = make_meta(100);
  store.write_segment(0, unknown.task_id, 0, pattern_payload(7, 0, 100));
  store.finalize_upload(0, unknown);

  FileMeta meta = make_meta(100);
  store.begin_upload(1, meta);
  store.abort_upload(1, meta.task_id);
  store.write_segment(1, meta.task_id, 0, pattern_payload(7, 0, 100));
  ASSERT_TRUE(collector_.wait_for(5));

  const auto written = collector_.of_kind(Kind::kWritten);
  ASSERT_EQ(written.size(), 2u);
  for (const auto& c : written) EXPECT_EQ(c.error, EBADF);
  const auto finalized = collector_.of_kind(Kind::kFinalized);
  ASSERT_EQ(finalized.size(), 1u);
  EXPECT_EQ(finalized[0].error, EBADF);
  EXPECT_FALSE(std::filesystem::exists(store.layout().data_path(meta.task_id)));
  EXPECT_FALSE(std::filesystem::exists(store.layout().data_path(unknown.task_id)));
}

TEST_F(DiskWriterTest, WritesPastTheDeclaredSizeAreRefused) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(100);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 90, pattern_payload(8, 90, 11));
  store.write_segment(0, meta.task_id, ~0ull - 5, pattern_payload(8, 0, 10));  // wraps
  store.write_segment(0, meta.task_id, 0, pattern_payload(8, 0, 100));
  ASSERT_TRUE(collector_.wait_for(4));
  const auto written = collector_.of_kind(Kind::kWritten);
  ASSERT_EQ(written.size(), 3u);
  std::map<uint64_t, int> error_at;
  for (const auto& c : written) error_at[c.offset] = c.error;
  EXPECT_EQ(error_at[90], EINVAL);
  EXPECT_EQ(error_at[~0ull - 5], EINVAL);
  EXPECT_EQ(error_at[0], 0);
  EXPECT_EQ(std::filesystem::file_size(store.layout().data_path(meta.task_id)), 100u);
}

// RLIMIT_FSIZE binds root too: a write that crosses it fails with EFBIG
// (once SIGXFSZ is ignored), on any file system.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t limit) {
    old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
    getrlimit(RLIMIT_FSIZE, &old_);
    rlimit lowered = old_;
    lowered.rlim_cur = limit;
    ok_ = setrlimit(RLIMIT_FSIZE, &lowered) == 0;
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &old_);
    std::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = nullptr;
  bool ok_ = false;
};

TEST_F(DiskWriterTest, AWriteErrorIsReportedAndOtherFilesGoOn) {
  constexpr uint64_t kLimit = 64ull << 20;
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta big = make_meta(kLimit + kSegment);
  FileMeta other = make_meta(kSegment);
  store.begin_upload(0, big);
  store.begin_upload(1, other);
  ASSERT_TRUE(collector_.wait_for(2));
  {
    FileSizeLimit limit(kLimit);
    ASSERT_TRUE(limit.ok());
    // Half of this lands below the limit: a short write, then EFBIG.
    store.write_segment(0, big.task_id, kLimit - kSegment / 2, pattern_payload(9, 0, kSegment));
    store.write_segment(1, other.task_id, 0, pattern_payload(10, 0, kSegment));
    ASSERT_TRUE(collector_.wait_for(4));
  }
  store.finalize_upload(0, big);  // refused: one of its writes failed
  store.finalize_upload(1, other);
  ASSERT_TRUE(collector_.wait_for(6));

  for (const auto& c : collector_.all()) {
    if (c.task_id == big.task_id && c.kind == Kind::kWritten) {
      EXPECT_EQ(c.error, EFBIG);
    }
    if (c.task_id == big.task_id && c.kind == Kind::kFinalized) {
      EXPECT_NE(c.error, 0);
    }
    if (c.task_id == other.task_id) {
      EXPECT_EQ(c.error, 0);
    }
  }
  EXPECT_FALSE(store.lookup_complete(big.task_id));
  EXPECT_EQ(read_all(store, other.task_id), pattern_bytes(10, kSegment));
  // The short write was retried for its rest (which then failed): 2 + 1.
  EXPECT_EQ(store.stats().pwritev_calls, 3u);
  EXPECT_GE(store.stats().write_errors, 1u);
}

TEST_F(DiskWriterTest, AFullDiskFailsOnlyTheWritesThatDoNotFit) {
  testing::SimFileSystem disk;
  disk.set_capacity(kSegment + 4096);  // the first segment and the metadata
  LocalDiskStore::Options options;
  options.file_system = &disk;
  LocalDiskStore store("/disk/store", collector_.sink(), options);
  FileMeta meta = make_meta(4 * kSegment);
  store.begin_upload(0, meta);
  // A hole at 1: the run starting at 2 is its own pwritev, and it fails alone.
  store.write_segment(0, meta.task_id, 0, pattern_payload(11, 0, kSegment));
  store.write_segment(0, meta.task_id, 2 * kSegment, pattern_payload(11, 2 * kSegment, kSegment));
  store.write_segment(0, meta.task_id, 3 * kSegment, pattern_payload(11, 3 * kSegment, kSegment));
  store.start();
  ASSERT_TRUE(collector_.wait_for(4));
  std::map<uint64_t, int> error_at;
  for (const auto& c : collector_.of_kind(Kind::kWritten)) error_at[c.offset] = c.error;
  EXPECT_EQ(error_at[0], 0);
  EXPECT_EQ(error_at[2 * kSegment], ENOSPC);
  EXPECT_EQ(error_at[3 * kSegment], ENOSPC);
}

TEST_F(DiskWriterTest, StopFlushesEverythingQueued) {
  constexpr size_t kFiles = 5;
  constexpr size_t kSegments = 40;
  std::vector<FileMeta> metas;
  {
    LocalDiskStore::Options options;
    options.max_batch = 16;  // many batches left to drain at stop
    LocalDiskStore store(dir_.path(), collector_.sink(), options);
    store.start();
    for (size_t f = 0; f < kFiles; ++f) {
      metas.push_back(make_meta(kSegments * 1000));
      store.begin_upload(0, metas.back());
      for (size_t s = 0; s < kSegments; ++s) {
        store.write_segment(0, metas.back().task_id, s * 1000, pattern_payload(f, s * 1000, 1000));
      }
      store.finalize_upload(0, metas.back());
    }
    store.stop();  // no waiting before it
    EXPECT_EQ(collector_.all().size(), kFiles * (kSegments + 2));
  }
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  LocalDiskStore reopened(dir_.path(), nullptr);
  for (size_t f = 0; f < kFiles; ++f) {
    EXPECT_EQ(read_all(reopened, metas[f].task_id), pattern_bytes(f, kSegments * 1000)) << f;
  }
}

TEST_F(DiskWriterTest, StopWithoutStartStillApplies) {
  FileMeta meta = make_meta(10);
  {
    LocalDiskStore store(dir_.path(), collector_.sink());
    store.begin_upload(0, meta);
    store.write_segment(0, meta.task_id, 0, pattern_payload(12, 0, 10));
    store.finalize_upload(0, meta);
  }  // the destructor stops
  EXPECT_EQ(collector_.all().size(), 3u);
  EXPECT_EQ(count_errors(collector_.all()), 0u);
}

TEST_F(DiskWriterTest, AnInterruptedUploadResumesWithItsBytes) {
  FileMeta meta = make_meta(2 * kSegment);
  {
    LocalDiskStore store(dir_.path(), collector_.sink());
    store.start();
    store.begin_upload(0, meta);
    store.write_segment(0, meta.task_id, 0, pattern_payload(13, 0, kSegment));
    store.stop();
  }
  ASSERT_EQ(count_errors(collector_.all()), 0u);
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, kSegment, pattern_payload(13, kSegment, kSegment));
  store.finalize_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(5));
  EXPECT_EQ(count_errors(collector_.all()), 0u);
  EXPECT_EQ(read_all(store, meta.task_id), pattern_bytes(13, 2 * kSegment));
}

TEST_F(DiskWriterTest, BlocksAreReservedAFewMegabytesAheadOfTheWritesNotWhole) {
  constexpr uint64_t kSize = 64ull << 20;
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(kSize);
  store.begin_upload(0, meta);
  store.write_segment(0, meta.task_id, 0, pattern_payload(3, 0, kSegment));
  ASSERT_TRUE(collector_.wait_for(2));
  struct stat st {};
  ASSERT_EQ(::stat(store.layout().data_path(meta.task_id).c_str(), &st), 0);
  // A sender that stops here holds a few MiB of the disk, not 64.
  EXPECT_GE(static_cast<uint64_t>(st.st_size), uint64_t{kSegment});
  EXPECT_LE(static_cast<uint64_t>(st.st_size), kSegment + (8ull << 20));
  EXPECT_LE(static_cast<uint64_t>(st.st_blocks) * 512, kSegment + (8ull << 20));

  // The last segment: the file ends exactly where it should.
  store.write_segment(0, meta.task_id, kSize - kSegment, pattern_payload(4, 0, kSegment));
  ASSERT_TRUE(collector_.wait_for(3));
  EXPECT_EQ(std::filesystem::file_size(store.layout().data_path(meta.task_id)), kSize);
}

TEST_F(DiskWriterTest, AFreshTaskStartsEmpty) {
  LocalDiskStore store(dir_.path(), collector_.sink());
  store.start();
  FileMeta meta = make_meta(10);
  // Leftover bytes under the same name, with no metadata claiming them.
  std::filesystem::create_directories(store.layout().shard_dir(meta.task_id));
  { std::ofstream(store.layout().data_path(meta.task_id)) << "stale bytes from before"; }
  store.begin_upload(0, meta);
  ASSERT_TRUE(collector_.wait_for(1));
  // Emptied, then reserved for the new file (read back as zeros), so not a
  // stale byte shows through where the new upload has not written yet.
  std::ifstream in(store.layout().data_path(meta.task_id), std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(in), {}};
  EXPECT_LE(bytes.size(), meta.file_size);
  EXPECT_EQ(bytes, std::string(bytes.size(), '\0'));
}

}  // namespace
}  // namespace ttfs::storage
