#include "transfer/flow_shares.h"

#include <gtest/gtest.h>

namespace ttfs::transfer {
namespace {

TEST(UploadWindowShareTest, ALoneUploadGetsItsWholeConfiguredWindow) {
  EXPECT_EQ(upload_window_share(64, 0), 64u);
  EXPECT_EQ(upload_window_share(64, 1), 64u);
  EXPECT_EQ(upload_window_share(8, 1), 8u);
}

TEST(UploadWindowShareTest, AFewUploadsShareADeepWindow) {
  EXPECT_EQ(upload_window_share(64, 4), 64u);
  EXPECT_EQ(upload_window_share(64, 8), 32u);
  EXPECT_EQ(upload_window_share(64, 16), 16u);
}

TEST(UploadWindowShareTest, ManyUploadsGetSixteenEachUntilTheBudgetRunsOut) {
  EXPECT_EQ(upload_window_share(64, 50), 16u);
  EXPECT_EQ(upload_window_share(64, 256), 16u);
  EXPECT_EQ(upload_window_share(64, 500), 8u);  // 4096 segments shared
}

TEST(UploadWindowShareTest, NeverBelowTwoNorAboveTheConfiguredWindow) {
  EXPECT_EQ(upload_window_share(64, 2500), 2u);
  EXPECT_EQ(upload_window_share(64, 1'000'000), 2u);
  EXPECT_EQ(upload_window_share(1, 1'000'000), 1u);
  EXPECT_EQ(upload_window_share(4, 50), 4u);
}

TEST(ReadAheadDepthShareTest, EightUntilTheBudgetRunsOutThenDownToOne) {
  EXPECT_EQ(read_ahead_depth_share(0), 8u);
  EXPECT_EQ(read_ahead_depth_share(512), 8u);
  EXPECT_EQ(read_ahead_depth_share(1024), 4u);
  EXPECT_EQ(read_ahead_depth_share(100'000), 1u);
}

}  // namespace
}  // namespace ttfs::transfer
