#include <gtest/gtest.h>

#include "IM.File.pb.h"
#include "client/client.h"
#include "net/pdu.h"
#include "raw_peer.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using namespace std::chrono_literals;
using client::TransferMode;
constexpr auto kWait = 5000ms;

// Small bounds on a server of two workers: a bound each worker kept for
// itself (tasks are sharded by id) would let twice as many in.
class TaskLimits : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.max_tasks = 4;
    config.max_tasks_per_user = 2;
    config.limits.max_file_size = 1000;
    config.limits.linger = 1s;  // a finished task is forgotten soon after
    config.limits.task_timeout = task_timeout_;
    return config;
  }

  client::CreateTaskReply try_create(uint32_t from, uint32_t size,
                                     TransferMode mode = TransferMode::kOffline) {
    auto msg = client::MsgServerClient::connect(msg_endpoint());
    EXPECT_TRUE(msg.ok());
    if (!msg.ok()) return {};
    auto reply = msg->create_task({from, from + 1000, "f.bin", size, mode, std::nullopt});
    EXPECT_TRUE(reply.ok()) << reply.status().to_string();
    return reply.ok() ? *reply : client::CreateTaskReply{};
  }

  void expect_refused(uint32_t from, uint32_t size) {
    const auto reply = try_create(from, size);
    EXPECT_EQ(reply.result_code, 1u) << "user " << from;
    EXPECT_FALSE(reply.ok());
  }

  bool tasks_live_is(uint64_t n) {
    return eventually([&] { return server_->stats().tasks_live == n; });
  }

  client::Connection login(uint32_t user, const std::string& task,
                           IM::BaseDefine::ClientFileRole role) {
    auto conn = client::Connection::connect("127.0.0.1", server_->client_port(), kWait);
    EXPECT_TRUE(conn.ok());
    IM::File::IMFileLoginReq req;
    req.set_user_id(user);
    req.set_task_id(task);
    req.set_file_role(role);
    EXPECT_TRUE(conn->send_pdu(net::kSidFile, net::kCidFileLoginReq, 1, req, kWait).ok());
    EXPECT_TRUE(conn->receive(kWait).ok());  // LOGIN_RSP
    return std::move(conn).value();
  }

  std::chrono::seconds task_timeout_{60};
};

TEST_F(TaskLimits, MaxTasksPerUserRefusesTheSendersNextTaskOnly) {
  EXPECT_TRUE(try_create(1, 10).ok());
  EXPECT_TRUE(try_create(1, 10, TransferMode::kOnline).ok());
  expect_refused(1, 10);
  EXPECT_TRUE(try_create(2, 10).ok());  // another sender is not held back
  EXPECT_EQ(server_->stats().tasks_refused_over_per_user, 1u);
  EXPECT_EQ(server_->stats().tasks_refused_over_max_tasks, 0u);
}

TEST_F(TaskLimits, MaxTasksHoldsForEveryWorkerTogether) {
  for (uint32_t user = 10; user < 14; ++user) EXPECT_TRUE(try_create(user, 10).ok());
  expect_refused(14, 10);
  EXPECT_EQ(server_->stats().tasks_refused_over_max_tasks, 1u);
  EXPECT_EQ(server_->stats().tasks_live, 4u);
}

TEST_F(TaskLimits, MaxFileSizeRefusesALargerFile) {
  EXPECT_TRUE(try_create(1, 1000).ok());
  expect_refused(2, 1001);
  EXPECT_EQ(server_->stats().tasks_refused_file_size, 1u);
}

TEST_F(TaskLimits, AnOnlineTaskEndedByItsPeerGivesItsPlaceBack) {
  const std::string first = try_create(1, 10, TransferMode::kOnline).task_id.value_or("");
  const std::string second = try_create(1, 10, TransferMode::kOnline).task_id.value_or("");
  expect_refused(1, 10);
  {  // One sender leaves; the other cancels.
    client::Connection leaving = login(1, first, IM::BaseDefine::CLIENT_REALTIME_SENDER);
  }
  client::Connection cancelling = login(1, second, IM::BaseDefine::CLIENT_REALTIME_SENDER);
  IM::File::IMFileState cancel;
  cancel.set_state(IM::BaseDefine::CLIENT_FILE_CANCEL);
  cancel.set_task_id(second);
  cancel.set_user_id(1);
  ASSERT_TRUE(cancelling.send_pdu(net::kSidFile, net::kCidFileState, 2, cancel, kWait).ok());
  ASSERT_TRUE(tasks_live_is(0));
  EXPECT_TRUE(try_create(1, 10).ok());
  EXPECT_TRUE(try_create(1, 10).ok());
}

TEST_F(TaskLimits, ACancelledUploadGivesItsPlaceBack) {
  const std::string task = try_create(1, 100).task_id.value_or("");
  ASSERT_TRUE(try_create(1, 100).ok());
  client::Connection uploader = login(1, task, IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
  IM::File::IMFileState cancel;
  cancel.set_state(IM::BaseDefine::CLIENT_FILE_CANCEL);
  cancel.set_task_id(task);
  cancel.set_user_id(1);
  ASSERT_TRUE(uploader.send_pdu(net::kSidFile, net::kCidFileState, 2, cancel, kWait).ok());
  ASSERT_TRUE(tasks_live_is(1));
  EXPECT_TRUE(try_create(1, 100).ok());
  expect_refused(1, 100);
}

TEST_F(TaskLimits, AFinishedTransferGivesItsPlaceBack) {
  const uint32_t size = 1000;
  const std::string task = try_create(1, size).task_id.value_or("");
  ASSERT_TRUE(try_create(1, size).ok());
  client::OfflineUploader uploader(client_endpoint(), {task, 1, size},
                                   client::PatternSource(5).reader());
  ASSERT_TRUE(uploader.run().ok());
  client::PatternVerifier verifier(5, size);
  client::OfflineDownloader downloader(client_endpoint(), {task, 1001, size}, verifier.writer());
  ASSERT_TRUE(downloader.run().ok());
  ASSERT_TRUE(tasks_live_is(1));  // forgotten once downloaded and lingered
  EXPECT_TRUE(try_create(1, size).ok());
}

class ExpiringTaskLimits : public TaskLimits {
 protected:
  void SetUp() override {
    task_timeout_ = 1s;
    TaskLimits::SetUp();
  }
};

TEST_F(ExpiringTaskLimits, AnExpiredTaskGivesItsPlaceBack) {
  ASSERT_TRUE(try_create(1, 10).ok());
  ASSERT_TRUE(try_create(1, 10, TransferMode::kOnline).ok());
  expect_refused(1, 10);
  ASSERT_TRUE(tasks_live_is(0));  // nobody started them
  EXPECT_TRUE(try_create(1, 10).ok());
  EXPECT_TRUE(try_create(1, 10).ok());
}

}  // namespace
}  // namespace ttfs::testing
