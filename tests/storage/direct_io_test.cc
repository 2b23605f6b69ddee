// The store's O_DIRECT path: page-aligned segments bypass the page cache on
// the way in and out, everything else takes the buffered path, and the bytes
// are the same either way.
#include <gtest/gtest.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <span>
#include <vector>

#include "storage/file_system.h"
#include "storage/local_disk_store.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::TempDir;

constexpr size_t kSegment = 32768;

// A segment as the IO thread delivers it: the payload on a page boundary
// of its PDU block, behind `lead` bytes of header.
Payload aligned_segment(uint64_t seed, uint64_t offset, size_t length, size_t lead = 75) {
  const auto bytes = pattern_bytes(seed, offset + length);
  Bytes block = Bytes::aligned(lead + length, lead, kPayloadAlignment);
  std::memcpy(block.data() + lead, bytes.data() + offset, length);
  return Payload{std::move(block), lead, length, std::nullopt};
}

// The same bytes one byte off a page boundary.
Payload misaligned_segment(uint64_t seed, uint64_t offset, size_t length) {
  const auto bytes = pattern_bytes(seed, offset + length);
  Bytes block = Bytes::aligned(length + 1, 0, kPayloadAlignment);
  block.data()[0] = 0;
  std::memcpy(block.data() + 1, bytes.data() + offset, length);
  return Payload{std::move(block), 1, length, std::nullopt};
}

LocalDiskStore::Options direct_options() {
  LocalDiskStore::Options options;
  options.direct_io = true;
  return options;
}

class DirectIoTest : public ::testing::Test {
 protected:
  // Uploads `size` bytes in segments made by `make`, each waited for before
  // the next so that none merge, and checks every completion.
  template <typename MakeSegment>
  FileMeta upload(LocalDiskStore& store, uint64_t size, MakeSegment make) {
    FileMeta meta = make_meta(size);
    size_t ops = 1;
    store.begin_upload(0, meta);
    EXPECT_TRUE(collector_.wait_for(ops));
    for (uint64_t off = 0; off < size; off += kSegment) {
      store.write_segment(0, meta.task_id, off,
                          make(off, std::min<uint64_t>(kSegment, size - off)));
      EXPECT_TRUE(collector_.wait_for(++ops));
    }
    store.finalize_upload(0, meta);
    EXPECT_TRUE(collector_.wait_for(++ops));
    for (const auto& c : collector_.all()) EXPECT_EQ(c.error, 0);
    return meta;
  }

  // Reads the file back segment by segment into page-aligned buffers, as a
  // download does, and also in one unaligned piece.
  void expect_content(LocalDiskStore& store, const FileMeta& meta, uint64_t seed) {
    const auto expected = pattern_bytes(seed, meta.file_size);
    auto reader = store.open_reader(meta.task_id);
    ASSERT_NE(reader, nullptr);
    for (uint64_t off = 0; off < meta.file_size; off += kSegment) {
      const size_t length = std::min<uint64_t>(kSegment, meta.file_size - off);
      Bytes buffer = Bytes::aligned(length, 0, kPayloadAlignment);
      ASSERT_EQ(reader->read_at(off, buffer.span()), 0) << off;
      EXPECT_EQ(std::memcmp(buffer.data(), expected.data() + off, length), 0) << off;
    }
    std::vector<uint8_t> odd(meta.file_size - 3);
    ASSERT_EQ(reader->read_at(3, odd), 0);
    EXPECT_EQ(std::memcmp(odd.data(), expected.data() + 3, odd.size()), 0);
    // And again aligned, after the reader went buffered for the odd read.
    Bytes first = Bytes::aligned(kSegment, 0, kPayloadAlignment);
    ASSERT_EQ(reader->read_at(0, first.span()), 0);
    EXPECT_EQ(std::memcmp(first.data(), expected.data(), kSegment), 0);
    // As a download's read-ahead reads: several segments at once, each into
    // a buffer of its own, from the second segment to the end.
    std::vector<Bytes> buffers;
    std::vector<std::span<uint8_t>> pieces;
    for (uint64_t off = kSegment; off < meta.file_size; off += kSegment) {
      const size_t length = std::min<uint64_t>(kSegment, meta.file_size - off);
      buffers.push_back(Bytes::aligned(length, 0, kPayloadAlignment));
      pieces.push_back(buffers.back().span());
    }
    ASSERT_EQ(reader->read_consecutive(kSegment, pieces), 0);
    uint64_t off = kSegment;
    for (const auto piece : pieces) {
      EXPECT_EQ(std::memcmp(piece.data(), expected.data() + off, piece.size()), 0) << off;
      off += piece.size();
    }
  }

  TempDir dir_;
  Collector collector_;  // declared before the stores: their threads call it
};

TEST_F(DirectIoTest, AlignedSegmentsGoDirectAndTheTailIsBuffered) {
  LocalDiskStore store(dir_.path(), collector_.sink(), direct_options());
  store.start();
  const uint64_t size = 6 * kSegment + 1000;
  const FileMeta meta =
      upload(store, size, [](uint64_t off, size_t len) { return aligned_segment(4, off, len); });
  const auto stats = store.stats();
  EXPECT_EQ(stats.direct_writes, 6u);
  EXPECT_EQ(stats.pwritev_calls, 7u) << "the 1000-byte tail cannot go direct";
  EXPECT_EQ(stats.bytes_written, size);
  expect_content(store, meta, 4);
}

TEST_F(DirectIoTest, MisalignedPayloadsAreWrittenBuffered) {
  LocalDiskStore store(dir_.path(), collector_.sink(), direct_options());
  store.start();
  const uint64_t size = 4 * kSegment;
  const FileMeta meta =
      upload(store, size, [](uint64_t off, size_t len) { return misaligned_segment(5, off, len); });
  EXPECT_EQ(store.stats().direct_writes, 0u);
  expect_content(store, meta, 5);
}

TEST_F(DirectIoTest, SwitchingBetweenDirectAndBufferedKeepsEveryByte) {
  LocalDiskStore store(dir_.path(), collector_.sink(), direct_options());
  store.start();
  const uint64_t size = 8 * kSegment + 4097;
  // Alternate the two kinds, so the file changes mode segment by segment.
  const FileMeta meta = upload(store, size, [](uint64_t off, size_t len) {
    return (off / kSegment) % 2 ? misaligned_segment(6, off, len) : aligned_segment(6, off, len);
  });
  const auto stats = store.stats();
  // Segments 0, 2, 4 and 6; the 4097-byte tail (8) cannot go direct.
  EXPECT_EQ(stats.direct_writes, 4u);
  EXPECT_EQ(stats.pwritev_calls, 9u);
  expect_content(store, meta, 6);
}

TEST_F(DirectIoTest, TurnedOffEverythingGoesThroughThePageCache) {
  LocalDiskStore::Options options;
  options.direct_io = false;
  LocalDiskStore store(dir_.path(), collector_.sink(), options);
  store.start();
  const uint64_t size = 5 * kSegment + 1;
  const FileMeta meta =
      upload(store, size, [](uint64_t off, size_t len) { return aligned_segment(7, off, len); });
  EXPECT_EQ(store.stats().direct_writes, 0u);
  EXPECT_GT(store.stats().pwritev_calls, 0u);
  expect_content(store, meta, 7);
}

TEST(PosixFile, AScatteredReadFillsMorePiecesThanOneSystemCallTakes) {
  TempDir dir;
  const auto path = dir.path() / "file";
  const auto bytes = pattern_bytes(9, 3000);
  {
    auto opened = posix_file_system().open(path, OpenMode::kWriteTruncated, false);
    ASSERT_NE(opened.file, nullptr);
    std::vector<uint8_t> copy = bytes;
    iovec iov{copy.data(), copy.size()};
    uint64_t calls = 0;
    ASSERT_EQ(opened.file->write_at(&iov, 1, 0, &calls), 0);
  }
  auto opened = posix_file_system().open(path, OpenMode::kRead, false);
  ASSERT_NE(opened.file, nullptr);
  // 2,500 one-byte pieces (past IOV_MAX, 1024) and an empty one among them.
  std::vector<uint8_t> got(2500);
  std::vector<std::span<uint8_t>> pieces;
  for (size_t i = 0; i < got.size(); ++i) {
    pieces.push_back({got.data() + i, 1});
    if (i == 700) pieces.push_back({});
  }
  ASSERT_EQ(opened.file->read_scattered(pieces, 100), 0);
  EXPECT_TRUE(std::equal(got.begin(), got.end(), bytes.begin() + 100));
  std::vector<uint8_t> past(1000);
  const std::span<uint8_t> beyond[] = {{past.data(), 500}, {past.data() + 500, 500}};
  EXPECT_EQ(opened.file->read_scattered(beyond, 2500), EIO) << "the file ends first";
}

}  // namespace
}  // namespace ttfs::storage
