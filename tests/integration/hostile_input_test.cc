#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "client/client.h"
#include "net/pdu.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;
constexpr auto kWait = std::chrono::seconds(5);

class HostileInput : public ServerFixture {
 protected:
  client::Connection connect(const client::Endpoint& to) {
    auto conn = client::Connection::connect(to.host, to.port, kWait);
    EXPECT_TRUE(conn.ok()) << conn.status().to_string();
    return std::move(conn).value();
  }

  static std::vector<uint8_t> header(uint32_t length, uint16_t sid, uint16_t cid, uint16_t seq) {
    std::vector<uint8_t> bytes(net::kPduHeaderSize);
    net::PduHeader h;
    h.length = length;
    h.service_id = sid;
    h.command_id = cid;
    h.seq_num = seq;
    net::write_header(h, bytes.data());
    return bytes;
  }

  // The server answers nothing more and closes: the next receive ends in
  // kClosed (or a reset), never in a timeout.
  static void expect_closed(client::Connection& conn) {
    for (;;) {
      auto pdu = conn.receive(kWait);
      if (pdu.ok()) continue;  // a refusal sent before the close
      EXPECT_NE(pdu.status().code(), client::ErrorCode::kTimeout) << "the server kept it open";
      return;
    }
  }

  // Whatever one connection did, the server still serves a whole transfer.
  void expect_still_serving() {
    const uint64_t size = 70000;
    const std::string task = create_task(1, 2, size, TransferMode::kOffline);
    client::OfflineUploader uploader(client_endpoint(), {task, 1, size},
                                     client::PatternSource(3).reader());
    ASSERT_TRUE(uploader.run().ok());
    client::PatternVerifier verifier(3, size);
    client::OfflineDownloader downloader(client_endpoint(), {task, 2, size}, verifier.writer());
    ASSERT_TRUE(downloader.run().ok());
    EXPECT_TRUE(verifier.complete_and_correct());
  }

  client::Status send_login(client::Connection& conn, uint32_t user, const std::string& task,
                            IM::BaseDefine::ClientFileRole role) {
    IM::File::IMFileLoginReq login;
    login.set_user_id(user);
    login.set_task_id(task);
    login.set_file_role(role);
    return conn.send_pdu(net::kSidFile, net::kCidFileLoginReq, 7, login, kWait);
  }
};

TEST_F(HostileInput, HeaderWhoseLengthSaysEightIsClosedNotFatal) {
  // The original server aborts on this one.
  auto conn = connect(client_endpoint());
  ASSERT_TRUE(conn.send(header(8, net::kSidFile, net::kCidFileLoginReq, 1), kWait).ok());
  expect_closed(conn);
  expect_still_serving();
}

TEST_F(HostileInput, LengthOverTheMaximumIsRefusedBeforeItsBodyArrives) {
  auto conn = connect(client_endpoint());
  ASSERT_TRUE(
      conn.send(header(0x7fffffff, net::kSidFile, net::kCidFilePullDataRsp, 1), kWait).ok());
  expect_closed(conn);
  auto msg = connect(msg_endpoint());
  ASSERT_TRUE(msg.send(header(2u << 30, net::kSidOther, net::kCidFileTransferReq, 1), kWait).ok());
  expect_closed(msg);
  expect_still_serving();
}

TEST_F(HostileInput, BodyThatDoesNotParseIsClosed) {
  auto conn = connect(client_endpoint());
  auto pdu = header(net::kPduHeaderSize + 3, net::kSidFile, net::kCidFileLoginReq, 1);
  pdu.insert(pdu.end(), {0xff, 0xff, 0xff});
  ASSERT_TRUE(conn.send(pdu, kWait).ok());
  expect_closed(conn);
  expect_still_serving();
}

TEST_F(HostileInput, UnknownCommandIsClosedOnBothPorts) {
  auto conn = connect(client_endpoint());
  ASSERT_TRUE(conn.send(header(net::kPduHeaderSize, 9, 0x0999, 1), kWait).ok());
  expect_closed(conn);
  auto msg = connect(msg_endpoint());
  ASSERT_TRUE(
      msg.send(header(net::kPduHeaderSize, net::kSidFile, net::kCidFileLoginReq, 1), kWait).ok());
  expect_closed(msg);
  expect_still_serving();
}

TEST_F(HostileInput, TaskCreationIsOnlyForTheMsgServerPort) {
  auto conn = connect(client_endpoint());
  IM::Server::IMFileTransferReq req;
  req.set_from_user_id(1);
  req.set_to_user_id(2);
  req.set_file_name("x");
  req.set_file_size(1);
  req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  ASSERT_TRUE(conn.send_pdu(net::kSidOther, net::kCidFileTransferReq, 1, req, kWait).ok());
  expect_closed(conn);
}

TEST_F(HostileInput, FileCommandBeforeLoginIsClosed) {
  auto conn = connect(client_endpoint());
  IM::File::IMFilePullDataReq req;
  req.set_task_id(create_task(1, 2, 100, TransferMode::kOffline));
  req.set_user_id(2);
  req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  req.set_offset(0);
  req.set_data_size(100);
  ASSERT_TRUE(conn.send_pdu(net::kSidFile, net::kCidFilePullDataReq, 1, req, kWait).ok());
  expect_closed(conn);
}

TEST_F(HostileInput, TaskIdThatIsNotACanonicalUuidIsRefusedWithALoginFailure) {
  for (const std::string& bad :
       std::vector<std::string>{"../../etc/passwd", "", "ABCDEF00-0000-4000-8000-000000000000",
                                "abcdef00000040008000000000000000", std::string(36, 'a')}) {
    auto conn = connect(client_endpoint());
    ASSERT_TRUE(send_login(conn, 1, bad, IM::BaseDefine::CLIENT_OFFLINE_UPLOAD).ok());
    auto rsp = conn.receive(kWait);
    ASSERT_TRUE(rsp.ok()) << bad << ": " << rsp.status().to_string();
    EXPECT_EQ(rsp->header.command_id, net::kCidFileLoginRsp);
    EXPECT_EQ(rsp->header.seq_num, 7);
    IM::File::IMFileLoginRsp login_rsp;
    ASSERT_TRUE(login_rsp.ParseFromArray(rsp->body().data(), static_cast<int>(rsp->body().size())));
    EXPECT_EQ(login_rsp.result_code(), 1u) << bad;
    expect_closed(conn);
  }
  // Nothing reached the store: no path was ever built from those ids.
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(data_dir_)) {
    files += entry.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 0u);
  expect_still_serving();
}

TEST_F(HostileInput, UnknownTaskAndWrongUserAreRefused) {
  const std::string task = create_task(1, 2, 100, TransferMode::kOffline);
  for (const auto& [user, id] :
       std::vector<std::pair<uint32_t, std::string>>{{1, TaskId::generate().str()}, {99, task}}) {
    auto conn = connect(client_endpoint());
    ASSERT_TRUE(send_login(conn, user, id, IM::BaseDefine::CLIENT_OFFLINE_UPLOAD).ok());
    auto rsp = conn.receive(kWait);
    ASSERT_TRUE(rsp.ok());
    IM::File::IMFileLoginRsp login_rsp;
    ASSERT_TRUE(login_rsp.ParseFromArray(rsp->body().data(), static_cast<int>(rsp->body().size())));
    EXPECT_EQ(login_rsp.result_code(), 1u);
    EXPECT_EQ(login_rsp.task_id(), id);
    expect_closed(conn);
  }
}

TEST_F(HostileInput, SecondLoginOnOneConnectionIsRefused) {
  const std::string task = create_task(1, 2, 100, TransferMode::kOnline);
  auto conn = connect(client_endpoint());
  ASSERT_TRUE(send_login(conn, 1, task, IM::BaseDefine::CLIENT_REALTIME_SENDER).ok());
  ASSERT_TRUE(conn.receive(kWait).ok());
  ASSERT_TRUE(send_login(conn, 2, task, IM::BaseDefine::CLIENT_REALTIME_RECVER).ok());
  expect_closed(conn);
}

TEST_F(HostileInput, HeartbeatIsEchoedOnBothPorts) {
  for (const auto& endpoint : {client_endpoint(), msg_endpoint()}) {
    auto conn = connect(endpoint);
    const auto ping = header(net::kPduHeaderSize, net::kSidOther, net::kCidHeartbeat, 0x1234);
    ASSERT_TRUE(conn.send(ping, kWait).ok());
    auto echo = conn.receive(kWait);
    ASSERT_TRUE(echo.ok());
    EXPECT_EQ(std::vector<uint8_t>(echo->bytes.data(), echo->bytes.data() + echo->bytes.size()),
              ping);
  }
}

TEST_F(HostileInput, AddressListAnswersWithTheClientPort) {
  auto msg = client::MsgServerClient::connect(msg_endpoint());
  ASSERT_TRUE(msg.ok());
  auto addresses = msg->server_addresses();
  ASSERT_TRUE(addresses.ok());
  ASSERT_EQ(addresses->size(), 1u);
  EXPECT_EQ((*addresses)[0].ip, "127.0.0.1");
  EXPECT_EQ((*addresses)[0].port, server_->client_port());
}

TEST_F(HostileInput, TaskCreationEchoesTheRequestAndItsAttachData) {
  auto msg = client::MsgServerClient::connect(msg_endpoint());
  ASSERT_TRUE(msg.ok());
  client::CreateTaskRequest request;
  request.from_user = 5;
  request.to_user = 6;
  request.file_name = "report.pdf";
  request.file_size = 123456;
  request.mode = TransferMode::kOnline;
  request.attach_data = std::string("\x01\x02routing", 9);
  auto reply = msg->create_task(request);
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->result_code, 0u);
  EXPECT_EQ(reply->from_user, 5u);
  EXPECT_EQ(reply->to_user, 6u);
  EXPECT_EQ(reply->file_name, "report.pdf");
  EXPECT_EQ(reply->file_size, 123456u);
  EXPECT_EQ(reply->mode, TransferMode::kOnline);
  EXPECT_EQ(reply->attach_data, request.attach_data);
  ASSERT_TRUE(reply->task_id.has_value());
  EXPECT_TRUE(TaskId::parse(*reply->task_id).has_value());
}

}  // namespace
}  // namespace ttfs::testing
