#include <gtest/gtest.h>

#include <thread>

#include "IM.File.pb.h"
#include "client/client.h"
#include "net/pdu.h"
#include "raw_peer.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
constexpr auto kWait = 5000ms;

// Deadlines of a second, so that each test takes a few.
class Deadlines : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.io.login_timeout = 1s;
    config.io.frame_timeout = 1s;
    config.io.client_idle_timeout = idle_timeout_;
    config.io.msg_server_idle_timeout = idle_timeout_;
    return config;
  }

  // A client connection logged in to an online task: no deadline but the
  // idle and frame ones is left for it.
  RawPeer logged_in_peer() {
    const std::string task = create_task(1, 2, 100, client::TransferMode::kOnline);
    RawPeer peer = RawPeer::connect(server_->client_port());
    IM::File::IMFileLoginReq login;
    login.set_user_id(1);
    login.set_task_id(task);
    login.set_file_role(IM::BaseDefine::CLIENT_REALTIME_SENDER);
    const Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFileLoginReq, 1, login);
    EXPECT_TRUE(peer.send({pdu.data(), pdu.size()}));
    EXPECT_TRUE(peer.receive_pdu(kWait));  // LOGIN_RSP
    return peer;
  }

  // Sends whole heartbeats every 200 ms for `how_long`; false if one was
  // not echoed (the server closed the connection).
  static bool keep_talking(RawPeer& peer, std::chrono::milliseconds how_long) {
    const auto until = Clock::now() + how_long;
    for (uint16_t seq = 1; Clock::now() < until; ++seq) {
      if (!peer.send(heartbeat_pdu(seq)) || !peer.receive_pdu(kWait)) return false;
      std::this_thread::sleep_for(200ms);
    }
    return true;
  }

  // Sends a heartbeat's 16 bytes one at a time, `gap` apart, as a slowloris
  // does; true if the server closed the connection before the last byte.
  static bool closed_while_trickling(RawPeer& peer, std::chrono::milliseconds gap) {
    const auto pdu = heartbeat_pdu(9);
    for (uint8_t byte : pdu) {
      if (!peer.send({&byte, 1}) || peer.closed_within(gap)) return true;
    }
    return false;
  }

  std::chrono::seconds idle_timeout_{120};
};

TEST_F(Deadlines, LoginTimeoutClosesAClientThatKeepsTalkingWithoutLoggingIn) {
  RawPeer peer = RawPeer::connect(server_->client_port());
  const auto start = Clock::now();
  // Traffic resets the idle timer, not the login deadline.
  EXPECT_FALSE(keep_talking(peer, 4000ms));
  EXPECT_GE(Clock::now() - start, 1s);
  EXPECT_EQ(server_->stats().login_timeouts, 1u);
}

TEST_F(Deadlines, LoginTimeoutClosesASilentClient) {
  RawPeer peer = RawPeer::connect(server_->client_port());
  EXPECT_TRUE(peer.closed_within(4000ms));
  EXPECT_EQ(server_->stats().login_timeouts, 1u);
}

TEST_F(Deadlines, ALoginMeetsTheLoginTimeoutAndMsgServerHasNone) {
  RawPeer client = logged_in_peer();
  RawPeer msg = RawPeer::connect(server_->msg_server_port());
  EXPECT_TRUE(keep_talking(client, 2500ms));
  EXPECT_TRUE(keep_talking(msg, 500ms));
  EXPECT_EQ(server_->stats().login_timeouts, 0u);
  EXPECT_EQ(server_->stats().frame_timeouts, 0u);
}

TEST_F(Deadlines, FrameTimeoutClosesAPeerThatTricklesAHeaderAfterLogin) {
  RawPeer peer = logged_in_peer();
  // Every byte is traffic, so the idle timer alone would never fire.
  EXPECT_TRUE(closed_while_trickling(peer, 250ms));
  EXPECT_EQ(server_->stats().frame_timeouts, 1u);
}

TEST_F(Deadlines, FrameTimeoutHoldsOnTheMsgServerPortToo) {
  RawPeer peer = RawPeer::connect(server_->msg_server_port());
  EXPECT_TRUE(closed_while_trickling(peer, 250ms));
  EXPECT_EQ(server_->stats().frame_timeouts, 1u);
  // msg_server itself is served on.
  EXPECT_FALSE(create_task(1, 2, 10, client::TransferMode::kOffline).empty());
}

class IdleDeadlines : public Deadlines {
 protected:
  server::Config make_config() override {
    idle_timeout_ = 1s;
    server::Config config = Deadlines::make_config();
    config.io.login_timeout = 30s;
    return config;
  }
};

TEST_F(IdleDeadlines, IdleTimeoutsCloseSilentConnectionsOnBothPorts) {
  RawPeer client = RawPeer::connect(server_->client_port());
  RawPeer msg = RawPeer::connect(server_->msg_server_port());
  EXPECT_TRUE(client.closed_within(4000ms));
  EXPECT_TRUE(msg.closed_within(4000ms));
  EXPECT_EQ(server_->stats().idle_timeouts, 2u);
  EXPECT_EQ(server_->stats().login_timeouts, 0u);
}

TEST_F(IdleDeadlines, TrafficKeepsAConnectionPastItsIdleTimeout) {
  RawPeer msg = RawPeer::connect(server_->msg_server_port());
  EXPECT_TRUE(keep_talking(msg, 2500ms));
  EXPECT_EQ(server_->stats().idle_timeouts, 0u);
}

// MaxPduLength configured below its default: a PDU of that length is
// served, one byte more closes the connection before its body is awaited.
class PduLimit : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.io.max_pdu_length = 4096;
    return config;
  }
};

TEST_F(PduLimit, APduOverMaxPduLengthIsClosedOneAtItIsServed) {
  RawPeer within = RawPeer::connect(server_->client_port());
  ASSERT_TRUE(within.send(heartbeat_pdu(1, 4096)));
  std::vector<uint8_t> echo;
  ASSERT_TRUE(within.receive_pdu(kWait, &echo));
  EXPECT_EQ(echo.size(), 4096u);

  RawPeer over = RawPeer::connect(server_->client_port());
  const auto header = heartbeat_pdu(2, 4097);
  ASSERT_TRUE(over.send({header.data(), net::kPduHeaderSize}));  // the header alone
  EXPECT_TRUE(over.closed_within(kWait));
  EXPECT_EQ(server_->stats().protocol_errors, 1u);
}

}  // namespace
}  // namespace ttfs::testing
