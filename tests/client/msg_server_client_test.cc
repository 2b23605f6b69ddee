#include "client/msg_server_client.h"

#include <gtest/gtest.h>

#include "IM.Other.pb.h"
#include "IM.Server.pb.h"
#include "fake_peer.h"

namespace ttfs::client::testing {
namespace {

TEST(MsgServerClientTest, AsksForAddressesAndCreatesTasksWithFreshSeqNums) {
  FakePeer peer([](Connection& conn) {
    auto ip_req = expect_pdu(conn, net::kSidOther, net::kCidFileServerIpReq);
    ASSERT_TRUE(ip_req);
    EXPECT_EQ(ip_req->header.length, 16u);  // empty body
    EXPECT_EQ(ip_req->header.seq_num, 1);
    IM::Server::IMFileServerIPRsp ips;
    auto* a = ips.add_ip_addr_list();
    a->set_ip("10.0.0.1");
    a->set_port(8600);
    auto* b = ips.add_ip_addr_list();
    b->set_ip("10.0.0.2");
    b->set_port(8700);
    // An unasked heartbeat first: the client must skip it.
    ASSERT_TRUE(conn.send(net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, 0).span(),
                          kScriptTimeout)
                    .ok());
    send_msg(conn, net::kSidOther, net::kCidFileServerIpRsp, 1, ips);

    for (uint16_t seq : {2, 3}) {
      auto req_pdu = expect_pdu(conn, net::kSidOther, net::kCidFileTransferReq);
      ASSERT_TRUE(req_pdu);
      EXPECT_EQ(req_pdu->header.seq_num, seq);
      auto req = parse_body<IM::Server::IMFileTransferReq>(*req_pdu);
      EXPECT_EQ(req.from_user_id(), 11u);
      EXPECT_EQ(req.to_user_id(), 22u);
      EXPECT_EQ(req.file_name(), "a.bin");
      EXPECT_EQ(req.file_size(), 70000u);
      EXPECT_EQ(req.trans_mode(),
                seq == 2 ? IM::BaseDefine::FILE_TYPE_OFFLINE : IM::BaseDefine::FILE_TYPE_ONLINE);
      EXPECT_EQ(req.has_attach_data(), seq == 2);
      IM::Server::IMFileTransferRsp rsp;
      rsp.set_result_code(seq == 2 ? 0 : 1);
      rsp.set_from_user_id(req.from_user_id());
      rsp.set_to_user_id(req.to_user_id());
      if (seq == 2) {
        rsp.set_file_name(req.file_name());
        rsp.set_file_size(req.file_size());
        rsp.set_task_id(kTaskId);
        rsp.set_trans_mode(req.trans_mode());
        rsp.set_attach_data(req.attach_data());
      }
      send_msg(conn, net::kSidOther, net::kCidFileTransferRsp, seq, rsp);
    }
    auto hb = expect_pdu(conn, net::kSidOther, net::kCidHeartbeat);
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb->header.seq_num, 4);
    ASSERT_TRUE(conn.send(hb->bytes.span(), kScriptTimeout).ok());
    expect_closed(conn);
  });

  auto client = MsgServerClient::connect(peer.endpoint());
  ASSERT_TRUE(client.ok()) << client.status().to_string();
  auto addrs = client->server_addresses();
  ASSERT_TRUE(addrs.ok()) << addrs.status().to_string();
  ASSERT_EQ(addrs->size(), 2u);
  EXPECT_EQ((*addrs)[1].ip, "10.0.0.2");
  EXPECT_EQ((*addrs)[1].port, 8700u);

  CreateTaskRequest req{
      11, 22, "a.bin", 70000, TransferMode::kOffline, std::string("\x01\x00\x02", 3)};
  auto task = client->create_task(req);
  ASSERT_TRUE(task.ok()) << task.status().to_string();
  EXPECT_TRUE(task->ok());
  EXPECT_EQ(task->task_id, std::string(kTaskId));
  EXPECT_EQ(task->attach_data, req.attach_data);
  EXPECT_EQ(task->mode, TransferMode::kOffline);
  EXPECT_EQ(task->file_size, 70000u);

  req.mode = TransferMode::kOnline;
  req.attach_data.reset();
  auto refused = client->create_task(req);
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->result_code, 1u);
  EXPECT_FALSE(refused->ok());
  EXPECT_FALSE(refused->task_id.has_value());

  EXPECT_TRUE(client->heartbeat().ok());
  EXPECT_EQ(client->last_seq_num(), 4);
  client->close();
}

TEST(MsgServerClientTest, RejectsAReplyWithAnotherSeqNum) {
  FakePeer peer([](Connection& conn) {
    auto req = expect_pdu(conn, net::kSidOther, net::kCidFileServerIpReq);
    ASSERT_TRUE(req);
    send_msg(conn, net::kSidOther, net::kCidFileServerIpRsp, req->header.seq_num + 1,
             IM::Server::IMFileServerIPRsp());
    expect_closed(conn);
  });
  auto client = MsgServerClient::connect(peer.endpoint());
  ASSERT_TRUE(client.ok());
  auto addrs = client->server_addresses();
  ASSERT_FALSE(addrs.ok());
  EXPECT_EQ(addrs.status().code(), ErrorCode::kProtocol);
  client->close();
}

TEST(MsgServerClientTest, TimesOutWithoutAReply) {
  FakePeer peer([](Connection& conn) { expect_closed(conn); });
  MsgServerOptions options;
  options.timeout = 50ms;
  auto client = MsgServerClient::connect(peer.endpoint(), options);
  ASSERT_TRUE(client.ok());
  EXPECT_EQ(client->heartbeat().code(), ErrorCode::kTimeout);
  client->close();
}

TEST(MsgServerClientTest, RejectsAnUnparsableReply) {
  FakePeer peer([](Connection& conn) {
    auto req = expect_pdu(conn, net::kSidOther, net::kCidFileTransferReq);
    ASSERT_TRUE(req);
    // A body missing every required field.
    send_msg(conn, net::kSidOther, net::kCidFileTransferRsp, req->header.seq_num,
             IM::Other::IMHeartBeat());
    expect_closed(conn);
  });
  auto client = MsgServerClient::connect(peer.endpoint());
  ASSERT_TRUE(client.ok());
  auto task = client->create_task({1, 2, "x", 1, TransferMode::kOnline, std::nullopt});
  EXPECT_EQ(task.status().code(), ErrorCode::kProtocol);
  client->close();
}

}  // namespace
}  // namespace ttfs::client::testing
