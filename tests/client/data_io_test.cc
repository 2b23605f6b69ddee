#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <vector>

#include "client/file_sink.h"
#include "client/file_source.h"
#include "client/pattern_source.h"
#include "client/pattern_verifier.h"

namespace ttfs::client {
namespace {

TEST(PatternSourceTest, BytesDependOnSeedAndOffsetOnly) {
  PatternSource a(7), b(7), c(8);
  std::vector<uint8_t> x(1000), y(1000), z(1000);
  a.fill(13, x);
  b.fill(13, y);
  c.fill(13, z);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, z);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], a.byte_at(13 + i));
  // A segment moved to another offset does not verify.
  EXPECT_EQ(a.first_mismatch(13, x), -1);
  EXPECT_GE(a.first_mismatch(21, x), 21);
  x[500] ^= 1;
  EXPECT_EQ(a.first_mismatch(13, x), 513);
}

TEST(PatternVerifierTest, TracksCoverageCorruptionAndDuplicates) {
  constexpr uint64_t kSize = 70000;
  PatternVerifier v(5, kSize);
  WriteAt write = v.writer();
  PatternSource p(5);
  std::vector<uint8_t> seg(32768);
  p.fill(0, seg);
  ASSERT_TRUE(write(0, seg));
  p.fill(32768, seg);
  ASSERT_TRUE(write(32768, seg));
  EXPECT_FALSE(v.complete_and_correct());
  std::vector<uint8_t> tail(kSize - 65536);
  p.fill(65536, tail);
  ASSERT_TRUE(write(65536, tail));
  EXPECT_TRUE(v.complete_and_correct());
  EXPECT_EQ(v.bytes_written(), kSize);
  ASSERT_TRUE(write(65536, tail));  // twice
  EXPECT_EQ(v.duplicate_or_misaligned(), 1u);
  EXPECT_FALSE(v.complete_and_correct());
  tail[0] ^= 0xff;
  ASSERT_TRUE(write(65536, tail));
  EXPECT_EQ(v.first_mismatch(), 65536);
}

TEST(FileSourceSinkTest, RoundTripAtOffsets) {
  const auto path =
      std::filesystem::temp_directory_path() / ("ttfs_client_test_" + std::to_string(::getpid()));
  {
    auto sink = FileSink::create(path.string());
    ASSERT_TRUE(sink.ok()) << sink.status().to_string();
    WriteAt w = sink->writer();
    std::vector<uint8_t> seg(40000);
    PatternSource(9).fill(40000, seg);
    ASSERT_TRUE(w(40000, seg));  // the later half first
    PatternSource(9).fill(0, seg);
    ASSERT_TRUE(w(0, seg));
    ASSERT_TRUE(sink->finish().ok());
  }
  auto source = FileSource::open(path.string());
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(source->size(), 80000u);
  std::vector<uint8_t> all(80000);
  ASSERT_TRUE(source->reader()(0, all));
  EXPECT_EQ(PatternSource(9).first_mismatch(0, all), -1);
  std::vector<uint8_t> past(10);
  EXPECT_FALSE(source->reader()(79995, past));  // short read is a failure
  std::filesystem::remove(path);
  EXPECT_EQ(FileSource::open(path.string()).status().code(), ErrorCode::kIo);
}

}  // namespace
}  // namespace ttfs::client
