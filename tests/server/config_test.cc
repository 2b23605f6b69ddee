#include "server/config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace ttfs::server {
namespace {

Config load(const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("ttfs-config-" + std::to_string(::getpid()) + ".conf");
  std::ofstream(path) << text;
  Config config;
  load_config_file(path, config);
  std::filesystem::remove(path);
  return config;
}

TEST(Config, TheLimitKeysLandWhereTheyAreEnforced) {
  const Config c = load(
      "MaxConnections=500\nMaxConnectionsPerIp=20\nMaxMsgServerConnections=4\n"
      "MaxTasks=900\nMaxTasksPerUser=9\nLoginTimeout=15\nFrameTimeout=45\n"
      "MaxPduLength=65536\nMaxFileSize=1000\nUploadWindow=4\nOutputHighWater=131072\n"
      "ClientIdleTimeout=100\nMsgServerIdleTimeout=20\n");
  EXPECT_EQ(c.io.connection_limits.max_client_connections, 500u);
  EXPECT_EQ(c.io.connection_limits.max_client_connections_per_address, 20u);
  EXPECT_EQ(c.io.connection_limits.max_msg_server_connections, 4u);
  EXPECT_EQ(c.max_tasks, 900u);
  EXPECT_EQ(c.max_tasks_per_user, 9u);
  EXPECT_EQ(c.io.login_timeout, std::chrono::seconds(15));
  EXPECT_EQ(c.io.frame_timeout, std::chrono::seconds(45));
  EXPECT_EQ(c.io.max_pdu_length, 65536u);
  EXPECT_EQ(c.limits.max_file_size, 1000u);
  EXPECT_EQ(c.limits.upload_window, 4u);
  EXPECT_EQ(c.io.output_high_water, 131072u);
  EXPECT_EQ(c.io.client_idle_timeout, std::chrono::seconds(100));
  EXPECT_EQ(c.io.msg_server_idle_timeout, std::chrono::seconds(20));
}

TEST(Config, ZeroSwitchesThePerAddressAndPerUserBoundsOff) {
  const Config c = load("MaxConnectionsPerIp=0\nMaxTasksPerUser=0\n");
  EXPECT_EQ(c.io.connection_limits.max_client_connections_per_address, 0u);
  EXPECT_EQ(c.max_tasks_per_user, 0u);
  EXPECT_THROW(load("LoginTimeout=0\n"), std::runtime_error);
  EXPECT_THROW(load("MaxConnections=0\n"), std::runtime_error);
}

TEST(Config, TheDefaultsTheShippedFileListsAreTheBuiltInOnes) {
  // Every commented-out KEY=VALUE line of fileserver.conf, taken as set.
  std::ifstream shipped(std::string(TTFS_SOURCE_DIR) + "/fileserver.conf");
  ASSERT_TRUE(shipped) << TTFS_SOURCE_DIR;
  std::string listed;
  for (std::string line; std::getline(shipped, line);) {
    if (line.size() > 1 && line[0] == '#' && line.find('=') != std::string::npos &&
        line[1] != ' ') {
      listed += line.substr(1) + "\n";
    }
  }
  const Config c = load(listed);
  const Config defaults;
  EXPECT_EQ(c.io.connection_limits.max_client_connections,
            defaults.io.connection_limits.max_client_connections);
  EXPECT_EQ(c.io.connection_limits.max_client_connections_per_address,
            defaults.io.connection_limits.max_client_connections_per_address);
  EXPECT_EQ(c.io.connection_limits.max_msg_server_connections,
            defaults.io.connection_limits.max_msg_server_connections);
  EXPECT_EQ(c.max_tasks, defaults.max_tasks);
  EXPECT_EQ(c.max_tasks_per_user, defaults.max_tasks_per_user);
  EXPECT_EQ(c.io.login_timeout, defaults.io.login_timeout);
  EXPECT_EQ(c.io.frame_timeout, defaults.io.frame_timeout);
  EXPECT_EQ(c.io.max_pdu_length, defaults.io.max_pdu_length);
  EXPECT_EQ(c.limits.max_file_size, defaults.limits.max_file_size);
  EXPECT_EQ(c.limits.upload_window, defaults.limits.upload_window);
  EXPECT_EQ(c.limits.stall_timeout, defaults.limits.stall_timeout);
  EXPECT_EQ(c.io.output_high_water, defaults.io.output_high_water);
  EXPECT_EQ(c.io.max_requests_in_flight, defaults.io.max_requests_in_flight);
  EXPECT_EQ(c.io.client_idle_timeout, defaults.io.client_idle_timeout);
  EXPECT_EQ(c.io.msg_server_idle_timeout, defaults.io.msg_server_idle_timeout);
  EXPECT_NE(listed.find("MaxConnectionsPerIp="), std::string::npos);
  EXPECT_NE(listed.find("MaxTasksPerUser="), std::string::npos);
  EXPECT_NE(listed.find("LoginTimeout="), std::string::npos);
  EXPECT_NE(listed.find("FrameTimeout="), std::string::npos);
}

}  // namespace
}  // namespace ttfs::server
