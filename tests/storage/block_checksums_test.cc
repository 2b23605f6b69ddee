// Block checksums: taken from the bytes as they arrive, kept across a
// restart, and checked by every read, so a damaged disk is never served.
#include "storage/block_checksums.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <span>
#include <vector>

#include "sim_file_system.h"
#include "storage/crc32c.h"
#include "storage/local_disk_store.h"
#include "storage/meta_io.h"
#include "storage_test_util.h"

namespace ttfs::storage {
namespace {

using testing::Collector;
using testing::make_meta;
using testing::pattern_bytes;
using testing::pattern_payload;
using testing::SimFileSystem;
using testing::with_checksums;

constexpr uint64_t kBlock = BlockChecksums::kBlockSize;
const std::filesystem::path kRoot = "/disk/store";

TEST(BlockChecksums, ACallersCrcIsTakenForADataThatIsOneWholeBlock) {
  const auto bytes = pattern_bytes(2, 3 * kBlock + 10);
  const std::span<const uint8_t> all(bytes);
  BlockChecksums sums(bytes.size());
  const uint32_t block1 = crc32c(all.subspan(kBlock, kBlock));
  const uint32_t tail = crc32c(all.subspan(3 * kBlock));
  sums.record(kBlock, all.subspan(kBlock, kBlock), block1);
  sums.record(3 * kBlock, all.subspan(3 * kBlock), tail);
  // Over two blocks, one CRC says nothing about either: both are computed.
  sums.record(0, all.subspan(0, kBlock), std::nullopt);
  sums.record(2 * kBlock, all.subspan(2 * kBlock, kBlock), crc32c(all.subspan(2 * kBlock, kBlock)));
  EXPECT_EQ(sums.all(), with_checksums(make_meta(bytes.size()), bytes).block_checksums);

  BlockChecksums spanning(bytes.size());
  spanning.record(0, all.subspan(0, 2 * kBlock), 0xdeadbeef);
  EXPECT_EQ(spanning.leading(2 * kBlock),
            (std::vector<uint32_t>{crc32c(all.subspan(0, kBlock)), block1}));
}

TEST(BlockChecksums, WholeBlocksAreTakenFromTheWritesAndPiecesAreReadBack) {
  const auto bytes = pattern_bytes(1, 3 * kBlock + 10);
  BlockChecksums sums(bytes.size());
  const std::span<const uint8_t> all(bytes);
  sums.record(kBlock, all.subspan(kBlock, 2 * kBlock));  // blocks 1 and 2 whole
  sums.record(0, all.subspan(0, 100));                   // block 0 in part
  sums.record(3 * kBlock, all.subspan(3 * kBlock));      // the short last block, whole
  EXPECT_FALSE(sums.all_known());
  EXPECT_TRUE(sums.leading(bytes.size()).empty()) << "block 0 is not known yet";

  SimFileSystem fs;
  bool created = false;
  ASSERT_EQ(fs.make_dirs("/d", &created), 0);
  auto file = fs.open("/d/f", OpenMode::kWrite, false).file;
  ASSERT_NE(file, nullptr);
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};
  uint64_t calls = 0;
  ASSERT_EQ(file->write_at(&iov, 1, 0, &calls), 0);
  ASSERT_EQ(sums.fill_unknown(*file), 0);
  ASSERT_TRUE(sums.all_known());

  const FileMeta expected = with_checksums(make_meta(bytes.size()), bytes);
  EXPECT_EQ(sums.all(), expected.block_checksums);
  EXPECT_EQ(sums.file_checksum(), crc32c(bytes));
  EXPECT_EQ(sums.leading(2 * kBlock + 5).size(), 2u);  // block 2 ends past 2*kBlock+5
}

TEST(BlockChecksums, FirstBadBlockNamesTheBlockThatChanged) {
  auto bytes = pattern_bytes(2, 4 * kBlock);
  const auto sums = with_checksums(make_meta(bytes.size()), bytes).block_checksums;
  EXPECT_EQ(first_bad_block(sums, 0, bytes), -1);
  bytes[2 * kBlock + 7] ^= 0x01;
  EXPECT_EQ(first_bad_block(sums, 0, bytes), 2);
  EXPECT_EQ(first_bad_block(sums, kBlock, std::span<const uint8_t>(bytes).subspan(kBlock)), 2);
  EXPECT_EQ(first_bad_block(sums, 3 * kBlock, std::span<const uint8_t>(bytes).subspan(3 * kBlock)),
            -1);
}

class StoredChecksumsTest : public ::testing::Test {
 protected:
  LocalDiskStore::Options options() {
    LocalDiskStore::Options o;
    o.file_system = &fs_;
    o.checkpoint_interval = std::chrono::hours(1);  // only at stop()
    o.retention = testing::fixed_clock();
    return o;
  }

  // Uploads `bytes` in writes of `piece` bytes and finalizes; 0 or the error.
  int upload(LocalDiskStore& store, Collector& c, const FileMeta& meta, uint64_t from,
             uint64_t piece) {
    const auto bytes = pattern_bytes(7, meta.file_size);
    size_t expected = c.all().size() + 1;
    store.begin_upload(0, meta);
    for (uint64_t at = from; at < meta.file_size; at += piece, ++expected) {
      const size_t n = static_cast<size_t>(std::min(piece, meta.file_size - at));
      store.write_segment(0, meta.task_id, at, pattern_payload(7, at, n));
    }
    store.finalize_upload(0, meta);
    if (!c.wait_for(++expected)) return ETIMEDOUT;
    return c.all().back().error;
  }

  SimFileSystem fs_;
};

TEST_F(StoredChecksumsTest, PiecesSmallerThanABlockStillGetExactChecksums) {
  Collector c;
  LocalDiskStore store(kRoot, c.sink(), options());
  store.start();
  const FileMeta meta = make_meta(2 * kBlock + 300);
  ASSERT_EQ(upload(store, c, meta, 0, 1000), 0);
  FileMeta expected = meta;
  expected.complete = true;
  expected.completed_at_unix = testing::kCompletedAt;
  EXPECT_EQ(store.lookup_complete(meta.task_id),
            with_checksums(expected, pattern_bytes(7, meta.file_size)));
}

TEST_F(StoredChecksumsTest, AResumedUploadKeepsTheChecksumsOfWhatCameBeforeTheRestart) {
  const FileMeta meta = make_meta(5 * kBlock);
  {
    Collector c;
    LocalDiskStore store(kRoot, c.sink(), options());
    store.start();
    store.begin_upload(0, meta);
    for (uint64_t i = 0; i < 3; ++i) {
      store.write_segment(0, meta.task_id, i * kBlock, pattern_payload(7, i * kBlock, kBlock));
    }
    ASSERT_TRUE(c.wait_for(4));
  }  // stop(): three blocks checkpointed with their checksums
  Collector c;
  LocalDiskStore store(kRoot, c.sink(), options());
  store.start();
  const auto partial = store.lookup_partial(meta.task_id);
  ASSERT_TRUE(partial.has_value());
  ASSERT_EQ(partial->durable_bytes, 3 * kBlock);
  EXPECT_EQ(partial->block_checksums.size(), 3u);
  ASSERT_EQ(upload(store, c, meta, 3 * kBlock, kBlock), 0);
  FileMeta expected = meta;
  expected.complete = true;
  expected.completed_at_unix = testing::kCompletedAt;
  EXPECT_EQ(store.lookup_complete(meta.task_id),
            with_checksums(expected, pattern_bytes(7, meta.file_size)));
}

TEST_F(StoredChecksumsTest, ADamagedBlockIsRefusedAndTheOthersAreServed) {
  Collector c;
  LocalDiskStore store(kRoot, c.sink(), options());
  store.start();
  const FileMeta meta = make_meta(3 * kBlock + 500);
  ASSERT_EQ(upload(store, c, meta, 0, kBlock), 0);

  // One bit of block 1 flips on the disk after the upload.
  auto opened = fs_.open(store.layout().data_path(meta.task_id), OpenMode::kWrite, false);
  ASSERT_NE(opened.file, nullptr);
  auto bytes = pattern_bytes(7, meta.file_size);
  uint8_t flipped = bytes[kBlock + 1234] ^ 0x10;
  iovec iov{&flipped, 1};
  uint64_t calls = 0;
  ASSERT_EQ(opened.file->write_at(&iov, 1, kBlock + 1234, &calls), 0);

  auto reader = store.open_reader(meta.task_id);
  ASSERT_NE(reader, nullptr);
  Bytes buffer = Bytes::aligned(kBlock, 0, kPayloadAlignment);
  EXPECT_EQ(reader->read_at(0, {buffer.data(), kBlock}), 0);
  EXPECT_TRUE(std::equal(buffer.data(), buffer.data() + kBlock, bytes.begin()));
  EXPECT_EQ(reader->read_at(kBlock, {buffer.data(), kBlock}), EBADMSG);
  EXPECT_EQ(reader->read_at(kBlock + 1000, {buffer.data(), 10}), EBADMSG) << "inside the block";
  EXPECT_EQ(reader->read_at(0, {buffer.data(), kBlock + 1}), EBADMSG) << "a read into the block";
  EXPECT_EQ(reader->read_at(3 * kBlock, {buffer.data(), 500}), 0) << "the tail is intact";
  EXPECT_TRUE(std::equal(buffer.data(), buffer.data() + 500, bytes.begin() + 3 * kBlock));
  EXPECT_EQ(reader->read_at(2 * kBlock + 100, {buffer.data(), 1000}), 0);
  EXPECT_TRUE(std::equal(buffer.data(), buffer.data() + 1000, bytes.begin() + 2 * kBlock + 100));

  // Block by block in one read, as a download's read-ahead reads.
  std::vector<uint8_t> all(meta.file_size);
  auto blocks = [&](uint64_t from) {
    std::vector<std::span<uint8_t>> pieces;
    for (uint64_t off = from; off < meta.file_size; off += kBlock) {
      pieces.push_back({all.data() + off, std::min<uint64_t>(kBlock, meta.file_size - off)});
    }
    return pieces;
  };
  EXPECT_EQ(reader->read_consecutive(0, blocks(0)), EBADMSG);
  EXPECT_EQ(reader->read_consecutive(2 * kBlock, blocks(2 * kBlock)), 0);
  EXPECT_TRUE(std::equal(all.begin() + 2 * kBlock, all.end(), bytes.begin() + 2 * kBlock));
  const std::span<uint8_t> halves[] = {{all.data(), 100}, {all.data() + 100, kBlock}};
  EXPECT_EQ(reader->read_consecutive(0, halves), EBADMSG) << "pieces across the damaged block";
  const std::span<uint8_t> past_the_end[] = {{all.data(), 500}, {all.data() + 500, 1}};
  EXPECT_EQ(reader->read_consecutive(3 * kBlock, past_the_end), EINVAL);
}

TEST(BlockChecksumRecord, ACompleteRecordMissingSomeBlocksIsNotBelieved) {
  FileMeta meta = with_checksums(make_meta(3 * kBlock), pattern_bytes(3, 3 * kBlock));
  meta.complete = true;
  EXPECT_TRUE(decode_meta(encode_meta(meta)).ok());
  meta.block_checksums.pop_back();
  EXPECT_EQ(decode_meta(encode_meta(meta)).error, MetaError::kBadBody);
  meta.complete = false;  // a partial upload's record holds only the leading blocks
  EXPECT_TRUE(decode_meta(encode_meta(meta)).ok());
}

}  // namespace
}  // namespace ttfs::storage
