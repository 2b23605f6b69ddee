#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "client/client.h"
#include "server/server.h"

namespace ttfs::testing {

// A real server, in process, on 127.0.0.1 with ports picked by the kernel
// and its own store directory; the tests drive it over TCP with the client
// library, as a TeamTalk msg_server and clients would.
class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    data_dir_ = std::filesystem::temp_directory_path() /
                ("ttfs-it-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(data_dir_);
    start_server();
  }

  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(data_dir_);
  }

  virtual server::Config make_config() {
    server::Config config;
    config.client_listen_ips = {"127.0.0.1"};
    config.msg_server_listen_ip = "127.0.0.1";
    config.client_port = 0;
    config.msg_server_port = 0;
    config.data_dir = data_dir_;
    config.io_threads = 2;
    config.workers = 2;
    return config;
  }

  void start_server() {
    server_ = std::make_unique<server::Server>(make_config());
    server_->start();
  }

  void restart_server() {
    server_.reset();
    start_server();
  }

  client::Endpoint client_endpoint() const { return {"127.0.0.1", server_->client_port()}; }
  client::Endpoint msg_endpoint() const { return {"127.0.0.1", server_->msg_server_port()}; }

  // Creates a task as msg_server would; fails the test if the server refuses.
  std::string create_task(uint32_t from, uint32_t to, uint64_t size, client::TransferMode mode) {
    auto msg = client::MsgServerClient::connect(msg_endpoint());
    EXPECT_TRUE(msg.ok()) << msg.status().to_string();
    if (!msg.ok()) return {};
    client::CreateTaskRequest request;
    request.from_user = from;
    request.to_user = to;
    request.file_name = "file-" + std::to_string(size) + ".bin";
    request.file_size = static_cast<uint32_t>(size);
    request.mode = mode;
    auto reply = msg->create_task(request);
    EXPECT_TRUE(reply.ok()) << reply.status().to_string();
    if (!reply.ok()) return {};
    EXPECT_TRUE(reply->ok());
    return reply->task_id.value_or("");
  }

  std::filesystem::path data_dir_;
  std::unique_ptr<server::Server> server_;
};

}  // namespace ttfs::testing
