// Several workers feeding the one writer at once, as in the server.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <thread>

#include "storage/local_disk_store.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::TempDir;

constexpr uint32_t kProducers = 4;
constexpr size_t kFilesPerProducer = 6;
constexpr size_t kSegment = 4096;
constexpr uint64_t kFileSize = 48 * kSegment + 777;

class ConcurrencyTest : public ::testing::TestWithParam<size_t> {};

TEST_P(ConcurrencyTest, FourProducersManyFiles) {
  TempDir dir;
  Collector collector;
  LocalDiskStore::Options options;
  options.max_batch = GetParam();
  LocalDiskStore store(dir.path(), collector.sink(), options);
  store.start();

  const size_t segments_per_file = (kFileSize + kSegment - 1) / kSegment;
  std::vector<std::vector<FileMeta>> metas(kProducers);
  for (uint32_t p = 0; p < kProducers; ++p) {
    for (size_t f = 0; f < kFilesPerProducer; ++f) metas[p].push_back(make_meta(kFileSize));
  }

  std::vector<std::thread> producers;
  for (uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      std::mt19937 rng(p);
      for (size_t f = 0; f < kFilesPerProducer; ++f) store.begin_upload(p, metas[p][f]);
      // Interleave the files' segments, each file's in a shuffled order.
      std::vector<std::pair<size_t, uint64_t>> work;
      for (size_t f = 0; f < kFilesPerProducer; ++f) {
        for (uint64_t off = 0; off < kFileSize; off += kSegment) work.emplace_back(f, off);
      }
      std::shuffle(work.begin(), work.end(), rng);
      for (const auto& [f, off] : work) {
        const uint64_t seed = p * 100 + f;
        store.write_segment(
            p, metas[p][f].task_id, off,
            pattern_payload(seed, off, std::min<uint64_t>(kSegment, kFileSize - off)));
      }
      for (size_t f = 0; f < kFilesPerProducer; ++f) store.finalize_upload(p, metas[p][f]);
    });
  }
  for (auto& t : producers) t.join();

  const size_t expected = kProducers * kFilesPerProducer * (segments_per_file + 2);
  ASSERT_TRUE(collector.wait_for(expected));
  std::map<uint32_t, size_t> per_owner;
  for (const auto& call : collector.calls()) {
    for (const auto& c : call.completions) {
      ++per_owner[call.owner];
      EXPECT_EQ(c.error, 0);
      const auto& mine = metas[call.owner];
      EXPECT_TRUE(std::any_of(mine.begin(), mine.end(), [&](const FileMeta& m) {
        return m.task_id == c.task_id;
      })) << "completion delivered to the wrong owner";
    }
  }
  for (uint32_t p = 0; p < kProducers; ++p) {
    EXPECT_EQ(per_owner[p], kFilesPerProducer * (segments_per_file + 2));
  }

  for (uint32_t p = 0; p < kProducers; ++p) {
    for (size_t f = 0; f < kFilesPerProducer; ++f) {
      auto reader = store.open_reader(metas[p][f].task_id);
      ASSERT_NE(reader, nullptr);
      std::vector<uint8_t> got(kFileSize);
      ASSERT_EQ(reader->read_at(0, got), 0);
      EXPECT_EQ(got, pattern_bytes(p * 100 + f, kFileSize)) << "producer " << p << " file " << f;
    }
  }
  const auto stats = store.stats();
  EXPECT_EQ(stats.segments, kProducers * kFilesPerProducer * segments_per_file);
  EXPECT_EQ(stats.finalized, kProducers * kFilesPerProducer);
  EXPECT_EQ(stats.write_errors, 0u);
}

// A small batch cuts runs and control ops across batches; a large one merges.
INSTANTIATE_TEST_SUITE_P(BatchSizes, ConcurrencyTest, ::testing::Values(size_t{7}, size_t{512}));

}  // namespace
}  // namespace ttfs::storage
