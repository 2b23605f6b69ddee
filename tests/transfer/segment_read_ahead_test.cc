#include "transfer/segment_read_ahead.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace ttfs::transfer {
namespace {

constexpr uint32_t kSeg = 32768;
constexpr uint32_t kUser = 7;
constexpr std::string_view kTaskId = "c6a1d1f0-0000-4000-8000-000000000001";

// A file whose byte at offset i is i * 31 + 7, and a count of the reads
// asked of it, so a test sees how many pulls one read serves.
class PatternReader : public storage::FileReader {
 public:
  explicit PatternReader(uint64_t size) { meta_.file_size = size; }

  const storage::FileMeta& meta() const override { return meta_; }

  int read_at(uint64_t offset, std::span<uint8_t> dst) override {
    ++reads;
    return fill(offset, dst);
  }

  int read_consecutive(uint64_t offset, std::span<const std::span<uint8_t>> dsts) override {
    ++reads;
    pieces_per_read.push_back(dsts.size());
    if (fail_with != 0) return fail_with;
    for (const std::span<uint8_t> dst : dsts) {
      if (const int err = fill(offset, dst); err != 0) return err;
      offset += dst.size();
    }
    return 0;
  }

  int reads = 0;
  std::vector<size_t> pieces_per_read;
  int fail_with = 0;                // every read fails so
  uint64_t damaged = ~uint64_t{0};  // a read that covers this byte fails with EBADMSG

 private:
  int fill(uint64_t offset, std::span<uint8_t> dst) const {
    if (offset + dst.size() > meta_.file_size) return EINVAL;
    if (damaged >= offset && damaged < offset + dst.size()) return EBADMSG;
    for (size_t i = 0; i < dst.size(); ++i) dst[i] = static_cast<uint8_t>((offset + i) * 31 + 7);
    return 0;
  }

  storage::FileMeta meta_;
};

struct Pulled {
  uint16_t seq;
  uint32_t user_id;
  uint32_t offset;
  std::vector<uint8_t> data;
};

Pulled parse(const Bytes& pdu) {
  const net::PduHeader header = net::read_header(pdu.data());
  EXPECT_EQ(header.length, pdu.size());
  EXPECT_EQ(header.command_id, net::kCidFilePullDataRsp);
  const auto view = net::parse_pull_data_rsp(
      std::span<const uint8_t>(pdu.data() + net::kPduHeaderSize, header.body_length()));
  EXPECT_TRUE(view.has_value());
  if (!view) return {};
  EXPECT_EQ(view->result_code, 0u);
  EXPECT_EQ(view->task_id, kTaskId);
  return {header.seq_num, view->user_id, view->offset,
          std::vector<uint8_t>(view->file_data.begin(), view->file_data.end())};
}

bool holds_file_bytes(const Pulled& pulled) {
  for (size_t i = 0; i < pulled.data.size(); ++i) {
    if (pulled.data[i] != static_cast<uint8_t>((pulled.offset + i) * 31 + 7)) return false;
  }
  return true;
}

class SegmentReadAheadTest : public ::testing::Test {
 protected:
  explicit SegmentReadAheadTest(uint64_t size = 10 * kSeg + 100) {
    auto reader = std::make_unique<PatternReader>(size);
    file_ = reader.get();
    ahead_ = std::make_unique<SegmentReadAhead>(std::move(reader));
  }

  Pulled pull(uint16_t seq, uint64_t offset, uint32_t size, uint32_t depth, uint32_t user = kUser) {
    Bytes pdu;
    EXPECT_EQ(ahead_->take(seq, kTaskId, user, offset, size, depth, &pdu), 0);
    return parse(pdu);
  }

  PatternReader* file_;
  std::unique_ptr<SegmentReadAhead> ahead_;
};

TEST_F(SegmentReadAheadTest, OneReadAnswersAsManyPullsAsTheDepth) {
  for (uint16_t i = 0; i < 4; ++i) {
    const Pulled got = pull(100 + i, i * kSeg, kSeg, 4);
    EXPECT_EQ(got.seq, 100 + i);
    EXPECT_EQ(got.user_id, kUser);
    EXPECT_EQ(got.offset, i * kSeg);
    EXPECT_EQ(got.data.size(), kSeg);
    EXPECT_TRUE(holds_file_bytes(got));
  }
  EXPECT_EQ(file_->reads, 1);
  EXPECT_EQ(file_->pieces_per_read, std::vector<size_t>{4});
  EXPECT_EQ(ahead_->ready(), 0u);

  pull(1, 4 * kSeg, kSeg, 4);
  EXPECT_EQ(file_->reads, 2);
}

TEST_F(SegmentReadAheadTest, TheReadStopsAtTheFileEndWithAShortLastSegment) {
  pull(1, 8 * kSeg, kSeg, 8);
  EXPECT_EQ(file_->pieces_per_read, std::vector<size_t>{3});
  pull(2, 9 * kSeg, kSeg, 8);
  // The worker asks for what is left of the file, as its pull is cut there.
  const Pulled tail = pull(3, 10 * kSeg, 100, 8);
  EXPECT_EQ(tail.data.size(), 100u);
  EXPECT_TRUE(holds_file_bytes(tail));
  EXPECT_EQ(file_->reads, 1);
  // Asked for a whole segment there, it reads again and still stops at the end.
  EXPECT_EQ(pull(4, 10 * kSeg, kSeg, 8).data.size(), 100u);
  EXPECT_EQ(file_->reads, 2);
}

TEST_F(SegmentReadAheadTest, ItIsDrainedOnceTheLastSegmentIsReadAndAllReadAreTaken) {
  pull(1, 8 * kSeg, kSeg, 8);  // reads segments 8, 9 and the 100-byte tail
  EXPECT_FALSE(ahead_->drained());
  pull(2, 9 * kSeg, kSeg, 8);
  EXPECT_FALSE(ahead_->drained()) << "the tail is still waiting";
  pull(3, 10 * kSeg, 100, 8);
  EXPECT_TRUE(ahead_->drained());
}

TEST_F(SegmentReadAheadTest, ReadingTheEndFirstDrainsOnlyWhileNothingWaits) {
  pull(1, 10 * kSeg, 100, 8);
  EXPECT_TRUE(ahead_->drained());
  pull(2, 0, kSeg, 8);
  EXPECT_FALSE(ahead_->drained()) << "segments 1 to 7 wait for their pulls";
}

TEST_F(SegmentReadAheadTest, APullOutOfOrderOrOfAnotherSizeIsReadAfresh) {
  pull(1, 0, kSeg, 4);
  // The receiver went back: nothing read ahead holds offset 0 any more.
  const Pulled again = pull(2, 0, kSeg, 4);
  EXPECT_TRUE(holds_file_bytes(again));
  EXPECT_EQ(file_->reads, 2);
  // Same offset, a smaller piece: a segment of another size is not served.
  const Pulled smaller = pull(3, kSeg, 1000, 4);
  EXPECT_EQ(smaller.data.size(), 1000u);
  EXPECT_TRUE(holds_file_bytes(smaller));
  EXPECT_EQ(file_->reads, 3);
}

TEST_F(SegmentReadAheadTest, EachReceiverGetsPduAddressedToItself) {
  pull(1, 0, kSeg, 4, /*user=*/1);
  const Pulled other = pull(2, kSeg, kSeg, 4, /*user=*/2);
  EXPECT_EQ(other.user_id, 2u);
  EXPECT_EQ(file_->reads, 2);
  EXPECT_EQ(pull(3, kSeg, kSeg, 4, /*user=*/1).user_id, 1u);
  EXPECT_EQ(file_->reads, 2);
}

TEST_F(SegmentReadAheadTest, WhatNobodyAskedForIsDroppedAfterTwoBatches) {
  // A receiver that jumps about leaves segment 1 unclaimed.
  for (const uint64_t segment : {0, 5, 8, 3}) {
    pull(1, segment * kSeg, kSeg, 2);
    EXPECT_LE(ahead_->ready(), 2u) << "a batch of 2 leaves 1 unasked, and two batches stay";
  }
  EXPECT_EQ(file_->reads, 4);
  EXPECT_TRUE(holds_file_bytes(pull(2, kSeg, kSeg, 2)));
  EXPECT_EQ(file_->reads, 5);
}

TEST_F(SegmentReadAheadTest, AReadErrorIsReturnedAndNothingIsKept) {
  file_->fail_with = EBADMSG;
  Bytes pdu;
  EXPECT_EQ(ahead_->take(1, kTaskId, kUser, 0, kSeg, 4, &pdu), EBADMSG);
  EXPECT_EQ(ahead_->ready(), 0u);
  file_->fail_with = 0;
  EXPECT_TRUE(holds_file_bytes(pull(2, 0, kSeg, 4)));
}

TEST_F(SegmentReadAheadTest, ADamagedSegmentAheadDoesNotCostTheOnesBeforeIt) {
  file_->damaged = 5 * kSeg + 10;
  EXPECT_TRUE(holds_file_bytes(pull(1, 3 * kSeg, kSeg, 8)));
  EXPECT_EQ(file_->pieces_per_read, (std::vector<size_t>{8, 1})) << "the batch, then 3 alone";
  EXPECT_TRUE(holds_file_bytes(pull(2, 4 * kSeg, kSeg, 8)));
  Bytes pdu;
  EXPECT_EQ(ahead_->take(3, kTaskId, kUser, 5 * kSeg, kSeg, 8, &pdu), EBADMSG);
  EXPECT_TRUE(holds_file_bytes(pull(4, 6 * kSeg, kSeg, 8))) << "and the ones after it";
}

TEST_F(SegmentReadAheadTest, APullAtOrPastTheEndIsRefused) {
  Bytes pdu;
  EXPECT_EQ(ahead_->take(1, kTaskId, kUser, 11 * kSeg, kSeg, 4, &pdu), EINVAL);
  EXPECT_EQ(file_->reads, 0);
}

}  // namespace
}  // namespace ttfs::transfer
