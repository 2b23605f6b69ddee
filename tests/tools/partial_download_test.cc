#include "ttfs/partial_download.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <vector>

namespace ttfs::tool {
namespace {

namespace fs = std::filesystem;
using client::kSegmentSize;

const std::string kTask = "0b6c4c1e-8d0a-4f6e-9a51-3c2d1e0f9a8b";
const std::string kOtherTask = "11111111-2222-4333-8444-555555555555";

class PartialDownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ttfs-partial-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    out_ = (dir_ / "file.bin").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::vector<uint8_t> segment(uint64_t offset, uint32_t size) {
    std::vector<uint8_t> bytes(size);
    for (uint32_t i = 0; i < size; ++i) bytes[i] = static_cast<uint8_t>((offset + i) * 31 + 7);
    return bytes;
  }

  // Writes and records the segments at these indexes, as a download does.
  static void receive(PartialDownload& d, const std::vector<uint64_t>& indexes) {
    const client::WriteAt write = d.writer();
    for (uint64_t i : indexes) {
      const uint64_t offset = i * kSegmentSize;
      ASSERT_TRUE(write(offset, segment(offset, d.size_of(offset))));
      d.mark_written(offset);
    }
  }

  fs::path dir_;
  std::string out_;
};

constexpr uint64_t kSize = 10 * kSegmentSize + 100;  // 11 segments, the last short

TEST_F(PartialDownloadTest, FreshDownloadMissesEverySegment) {
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->segment_count(), 11u);
  EXPECT_EQ(d->segments_done(), 0u);
  EXPECT_EQ(d->missing_offsets().size(), 11u);
  EXPECT_EQ(d->size_of(10 * kSegmentSize), 100u);
  EXPECT_TRUE(fs::exists(out_ + ".part"));
  EXPECT_TRUE(fs::exists(out_ + ".part.progress"));
}

TEST_F(PartialDownloadTest, ReopenedAfterACutMissesOnlyWhatWasNotCheckpointed) {
  {
    auto d = PartialDownload::open(out_, kTask, kSize);
    ASSERT_TRUE(d.ok());
    receive(*d, {0, 1, 2, 5, 10});
    ASSERT_TRUE(d->checkpoint().ok());
    receive(*d, {7});  // written but never checkpointed: lost to a crash
  }
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->segments_done(), 5u);
  EXPECT_EQ(d->bytes_done(), 4 * kSegmentSize + 100);
  const std::vector<uint64_t> expected{3 * kSegmentSize, 4 * kSegmentSize, 6 * kSegmentSize,
                                       7 * kSegmentSize, 8 * kSegmentSize, 9 * kSegmentSize};
  EXPECT_EQ(d->missing_offsets(), expected);

  receive(*d, {3, 4, 6, 7, 8, 9});
  ASSERT_TRUE(d->complete().ok());
  EXPECT_FALSE(fs::exists(out_ + ".part"));
  EXPECT_FALSE(fs::exists(out_ + ".part.progress"));
  std::ifstream in(out_, std::ios::binary);
  std::vector<uint8_t> got((std::istreambuf_iterator<char>(in)), {});
  ASSERT_EQ(got.size(), kSize);
  for (uint64_t i = 0; i < 11; ++i) {
    const uint64_t offset = i * kSegmentSize;
    const auto want =
        segment(offset, static_cast<uint32_t>(std::min<uint64_t>(kSegmentSize, kSize - offset)));
    EXPECT_TRUE(std::equal(want.begin(), want.end(), got.begin() + static_cast<long>(offset)))
        << "segment " << i;
  }
}

TEST_F(PartialDownloadTest, SidecarOfAnotherTaskOrSizeIsRefusedAndKept) {
  {
    auto d = PartialDownload::open(out_, kTask, kSize);
    ASSERT_TRUE(d.ok());
    receive(*d, {0, 1});
    ASSERT_TRUE(d->checkpoint().ok());
  }
  auto other_task = PartialDownload::open(out_, kOtherTask, kSize);
  ASSERT_FALSE(other_task.ok());
  EXPECT_EQ(other_task.status().code(), client::ErrorCode::kInvalidArgument);
  EXPECT_NE(other_task.status().message().find("belongs to another download"), std::string::npos)
      << other_task.status().message();
  EXPECT_NE(other_task.status().message().find(kTask), std::string::npos);

  auto other_size = PartialDownload::open(out_, kTask, kSize + 1);
  ASSERT_FALSE(other_size.ok());
  EXPECT_EQ(other_size.status().code(), client::ErrorCode::kInvalidArgument);

  // Neither refusal touched the first download's progress.
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->segments_done(), 2u);
}

TEST_F(PartialDownloadTest, SomethingElseInTheSidecarsPlaceIsRefused) {
  std::ofstream(out_ + ".part.progress") << "not ours";
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("not a ttfs progress file"), std::string::npos);
}

TEST_F(PartialDownloadTest, SidecarWithoutItsDataFileStartsOver) {
  {
    auto d = PartialDownload::open(out_, kTask, kSize);
    ASSERT_TRUE(d.ok());
    receive(*d, {0, 1, 2});
    ASSERT_TRUE(d->checkpoint().ok());
  }
  fs::remove(out_ + ".part");
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok()) << d.status().to_string();
  EXPECT_EQ(d->segments_done(), 0u);
}

TEST_F(PartialDownloadTest, CompleteRefusesWhileSegmentsAreMissing) {
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok());
  receive(*d, {0});
  EXPECT_FALSE(d->complete().ok());
  EXPECT_FALSE(fs::exists(out_));
}

TEST_F(PartialDownloadTest, EmptyFailedAttemptLeavesNothingBehind) {
  auto d = PartialDownload::open(out_, kTask, kSize);
  ASSERT_TRUE(d.ok());
  d->discard_if_empty();
  EXPECT_FALSE(fs::exists(out_ + ".part"));
  EXPECT_FALSE(fs::exists(out_ + ".part.progress"));
}

TEST_F(PartialDownloadTest, ZeroByteFile) {
  auto d = PartialDownload::open(out_, kTask, 0);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->segment_count(), 0u);
  EXPECT_TRUE(d->missing_offsets().empty());
  ASSERT_TRUE(d->complete().ok());
  EXPECT_EQ(fs::file_size(out_), 0u);
}

}  // namespace
}  // namespace ttfs::tool
