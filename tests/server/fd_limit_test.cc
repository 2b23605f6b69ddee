#include "server/fd_limit.h"

#include <gtest/gtest.h>

namespace ttfs::server {
namespace {

constexpr uint64_t kUnlimited = UINT64_MAX;

TEST(FdLimit, TheSoftLimitIsRaisedToTheHardOne) {
  const FdLimitPlan plan = plan_fd_limit(1024, 524288, 200000);
  EXPECT_EQ(plan.raise_soft_to, 524288u);
  EXPECT_EQ(plan.expected, 524288u);
  EXPECT_FALSE(plan.too_low);
}

TEST(FdLimit, AHardLimitBelowTheNeedIsTakenAndSaidToBeTooLow) {
  const FdLimitPlan plan = plan_fd_limit(1024, 4096, 200000);
  EXPECT_EQ(plan.raise_soft_to, 4096u);
  EXPECT_TRUE(plan.too_low);
  const std::string warning = fd_limit_warning(4096, 4096, 200000);
  EXPECT_NE(warning.find("4096"), std::string::npos) << warning;
  EXPECT_NE(warning.find("ulimit -n 200000"), std::string::npos) << warning;
  EXPECT_NE(warning.find("LimitNOFILE=200000"), std::string::npos) << warning;
  EXPECT_NE(warning.find("MaxConnections"), std::string::npos) << warning;
}

TEST(FdLimit, ALimitAlreadyHighEnoughIsLeftAlone) {
  const FdLimitPlan plan = plan_fd_limit(1048576, 1048576, 200000);
  EXPECT_EQ(plan.raise_soft_to, 0u);
  EXPECT_FALSE(plan.too_low);
}

TEST(FdLimit, AnUnlimitedHardLimitIsAskedForWhatIsNeededOnly) {
  // The kernel refuses RLIM_INFINITY as a soft limit (fs.nr_open caps it).
  const FdLimitPlan plan = plan_fd_limit(1024, kUnlimited, 200000);
  EXPECT_EQ(plan.raise_soft_to, 200000u);
  EXPECT_FALSE(plan.too_low);
}

TEST(FdLimit, TheNeedGrowsWithTheConnectionBounds) {
  Config config;
  config.io_threads = 4;
  config.io.connection_limits.max_client_connections = 1000;
  config.io.connection_limits.max_msg_server_connections = 10;
  const uint64_t small = descriptors_needed(config);
  EXPECT_GE(small, 2010u);  // a socket and a store file per client connection
  config.io.connection_limits.max_client_connections = 100000;
  EXPECT_GE(descriptors_needed(config), 200010u);
  EXPECT_GT(descriptors_needed(config), small);
}

}  // namespace
}  // namespace ttfs::server
