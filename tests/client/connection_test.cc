#include "client/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include "IM.Other.pb.h"
#include "fake_peer.h"

namespace ttfs::client::testing {
namespace {

Bytes heartbeat_pdu(uint16_t seq) {
  return net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, seq);
}

TEST(ConnectionTest, AssemblesAPduSentOneByteAtATime) {
  FakePeer peer([](Connection& conn) {
    const Bytes pdu = heartbeat_pdu(42);
    for (size_t i = 0; i < pdu.size(); ++i) {
      ASSERT_TRUE(conn.send(pdu.span().subspan(i, 1), kScriptTimeout).ok());
    }
    expect_closed(conn);
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok()) << conn.status().to_string();
  auto pdu = conn->receive(2s);
  ASSERT_TRUE(pdu.ok()) << pdu.status().to_string();
  EXPECT_EQ(pdu->header.length, 16u);
  EXPECT_EQ(pdu->header.seq_num, 42);
  EXPECT_EQ(pdu->header.command_id, net::kCidHeartbeat);
  EXPECT_TRUE(pdu->body().empty());
  conn->close_gracefully(1s);
}

TEST(ConnectionTest, SplitsSeveralPdusFromOneWrite) {
  FakePeer peer([](Connection& conn) {
    Bytes both(32);
    const Bytes a = heartbeat_pdu(1);
    const Bytes b = heartbeat_pdu(2);
    std::memcpy(both.data(), a.data(), 16);
    std::memcpy(both.data() + 16, b.data(), 16);
    ASSERT_TRUE(conn.send(both.span(), kScriptTimeout).ok());
    expect_closed(conn);
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok());
  auto first = conn->receive(2s);
  auto second = conn->receive(2s);
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(first->header.seq_num, 1);
  EXPECT_EQ(second->header.seq_num, 2);
  conn->close_gracefully(1s);
}

TEST(ConnectionTest, CarriesALargePduWhole) {
  constexpr size_t kBody = 3 * 1024 * 1024;
  FakePeer peer([](Connection& conn) {
    Bytes pdu(net::kPduHeaderSize + kBody);
    net::PduHeader h;
    h.length = static_cast<uint32_t>(pdu.size());
    h.service_id = net::kSidFile;
    h.command_id = net::kCidFilePullDataRsp;
    net::write_header(h, pdu.data());
    PatternSource(3).fill(0, pdu.span().subspan(net::kPduHeaderSize));
    ASSERT_TRUE(conn.send(pdu.span(), kScriptTimeout).ok());
    expect_closed(conn);
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok());
  auto pdu = conn->receive(5s);
  ASSERT_TRUE(pdu.ok()) << pdu.status().to_string();
  ASSERT_EQ(pdu->body().size(), kBody);
  EXPECT_EQ(PatternSource(3).first_mismatch(0, pdu->body()), -1);
  conn->close_gracefully(1s);
}

TEST(ConnectionTest, RefusesALengthUnderTheHeader) {
  FakePeer peer([](Connection& conn) {
    Bytes pdu = heartbeat_pdu(1);
    pdu.data()[3] = 15;  // length 15
    ASSERT_TRUE(conn.send(pdu.span(), kScriptTimeout).ok());
    expect_closed(conn);
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok());
  auto pdu = conn->receive(2s);
  ASSERT_FALSE(pdu.ok());
  EXPECT_EQ(pdu.status().code(), ErrorCode::kProtocol);
  conn->close();
}

TEST(ConnectionTest, RefusesAnOversizeLengthBeforeItsBody) {
  FakePeer peer([](Connection& conn) {
    Bytes pdu = heartbeat_pdu(1);
    pdu.data()[0] = 0x10;  // 256 MiB, and no body follows
    ASSERT_TRUE(conn.send(pdu.span(), kScriptTimeout).ok());
    expect_closed(conn);
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s, 1 << 20);
  ASSERT_TRUE(conn.ok());
  auto pdu = conn->receive(2s);
  ASSERT_FALSE(pdu.ok());
  EXPECT_EQ(pdu.status().code(), ErrorCode::kProtocol);
  EXPECT_NE(pdu.status().message().find("maximum"), std::string::npos);
  conn->close();
}

TEST(ConnectionTest, ReportsTimeout) {
  FakePeer peer([](Connection& conn) { expect_closed(conn); });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok());
  auto pdu = conn->receive(50ms);
  ASSERT_FALSE(pdu.ok());
  EXPECT_EQ(pdu.status().code(), ErrorCode::kTimeout);
  conn->close();
}

TEST(ConnectionTest, ReportsCloseInsideAPdu) {
  FakePeer peer([](Connection& conn) {
    const Bytes pdu = heartbeat_pdu(1);
    ASSERT_TRUE(conn.send(pdu.span().first(10), kScriptTimeout).ok());
    conn.close();
  });
  auto conn = Connection::connect("127.0.0.1", peer.endpoint().port, 2s);
  ASSERT_TRUE(conn.ok());
  auto pdu = conn->receive(2s);
  ASSERT_FALSE(pdu.ok());
  EXPECT_EQ(pdu.status().code(), ErrorCode::kClosed);
  EXPECT_NE(pdu.status().message().find("inside a PDU"), std::string::npos);
}

TEST(ConnectionTest, ReportsConnectFailure) {
  // A port that was just free: bind, learn it, close, then connect to it.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  auto conn = Connection::connect("127.0.0.1", ntohs(addr.sin_port), 2s);
  ASSERT_FALSE(conn.ok());
  EXPECT_EQ(conn.status().code(), ErrorCode::kIo);

  auto bad = Connection::connect("localhost", 1, 2s);
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidArgument);
}

TEST(ConnectionTest, SendOnClosedConnectionFails) {
  Connection conn;
  EXPECT_EQ(conn.send(heartbeat_pdu(1).span(), 10ms).code(), ErrorCode::kClosed);
  EXPECT_EQ(conn.receive(10ms).status().code(), ErrorCode::kClosed);
}

}  // namespace
}  // namespace ttfs::client::testing
