#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "client/client.h"
#include "raw_peer.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using namespace std::chrono_literals;
constexpr auto kWait = 5000ms;

// Bounds small enough to reach, on a server of two IO threads: a bound
// each thread kept for itself would let twice as many in.
class ConnectionLimits : public ServerFixture {
 protected:
  server::Config make_config() override {
    server::Config config = ServerFixture::make_config();
    config.io.connection_limits.max_client_connections = 4;
    config.io.connection_limits.max_client_connections_per_address = 2;
    config.io.connection_limits.max_msg_server_connections = 2;
    return config;
  }

  // A connection the server took: it answers a heartbeat.
  std::unique_ptr<RawPeer> admitted(uint16_t port, const std::string& from) {
    auto peer = std::make_unique<RawPeer>(RawPeer::connect(port, from));
    EXPECT_TRUE(peer->connected());
    EXPECT_TRUE(peer->send(heartbeat_pdu(1)));
    EXPECT_TRUE(peer->receive_pdu(kWait)) << "from " << from << " was not served";
    return peer;
  }

  // A connection the server refused: closed at once, nothing answered.
  void refused(uint16_t port, const std::string& from) {
    RawPeer peer = RawPeer::connect(port, from);
    peer.send(heartbeat_pdu(2));
    EXPECT_FALSE(peer.receive_pdu(kWait)) << "from " << from << " was served";
    EXPECT_TRUE(peer.closed_within(kWait)) << "from " << from << " was kept open";
  }
};

TEST_F(ConnectionLimits, MaxConnectionsHoldsForTheWholeServer) {
  const uint16_t port = server_->client_port();
  std::vector<std::unique_ptr<RawPeer>> open;
  for (const char* from : {"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"})
    open.push_back(admitted(port, from));
  refused(port, "127.0.0.3");
  EXPECT_EQ(server_->stats().refused_over_max_connections, 1u);
  EXPECT_EQ(server_->stats().refused_over_per_ip, 0u);

  // A connection that closes gives its place back.
  open.pop_back();
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open == 3; }));
  open.push_back(admitted(port, "127.0.0.3"));
}

TEST_F(ConnectionLimits, MaxConnectionsPerIpHoldsForOneAddressOnly) {
  const uint16_t port = server_->client_port();
  std::vector<std::unique_ptr<RawPeer>> open;
  open.push_back(admitted(port, "127.0.0.5"));
  open.push_back(admitted(port, "127.0.0.5"));
  refused(port, "127.0.0.5");
  open.push_back(admitted(port, "127.0.0.6"));  // another address is not held back
  EXPECT_EQ(server_->stats().refused_over_per_ip, 1u);
  EXPECT_EQ(server_->stats().refused_over_max_connections, 0u);

  open.erase(open.begin());
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open == 2; }));
  open.push_back(admitted(port, "127.0.0.5"));
}

TEST_F(ConnectionLimits, AFullClientPortDoesNotStarveTheMsgServerPort) {
  const uint16_t port = server_->client_port();
  std::vector<std::unique_ptr<RawPeer>> open;
  for (const char* from : {"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2"})
    open.push_back(admitted(port, from));
  refused(port, "127.0.0.1");

  // msg_server, on the same address, still connects and creates tasks.
  EXPECT_FALSE(create_task(1, 2, 10, client::TransferMode::kOffline).empty());
  // That connection's close reaches the server a moment after the task is
  // made; until it does, it still counts against MaxMsgServerConnections.
  ASSERT_TRUE(eventually([&] { return server_->stats().connections_open == open.size(); }));
  open.push_back(admitted(server_->msg_server_port(), "127.0.0.1"));
  open.push_back(admitted(server_->msg_server_port(), "127.0.0.1"));
  // And its own bound holds.
  refused(server_->msg_server_port(), "127.0.0.1");
}

}  // namespace
}  // namespace ttfs::testing
