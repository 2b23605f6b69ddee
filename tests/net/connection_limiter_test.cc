#include "net/connection_limiter.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <thread>
#include <vector>

namespace ttfs::net {
namespace {

PeerAddress ipv4(const char* text) {
  sockaddr_storage storage{};
  auto& addr = reinterpret_cast<sockaddr_in&>(storage);
  addr.sin_family = AF_INET;
  ::inet_pton(AF_INET, text, &addr.sin_addr);
  return PeerAddress::from(storage);
}

TEST(ConnectionLimiter, TheTotalHoldsForEveryAddressTogether) {
  ConnectionLimiter limiter({.max_client_connections = 3,
                             .max_client_connections_per_address = 0,
                             .max_msg_server_connections = 1});
  std::vector<ConnectionLimiter::Ticket> tickets(4);
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("10.0.0.1"), tickets[0]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("10.0.0.2"), tickets[1]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("10.0.0.3"), tickets[2]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("10.0.0.4"), tickets[3]), Admission::kOverTotal);
  EXPECT_EQ(limiter.open(PortKind::kClient), 3u);
  tickets[1].reset();  // a connection closes: its place is free again
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("10.0.0.4"), tickets[3]), Admission::kAdmitted);
}

TEST(ConnectionLimiter, OneAddressIsHeldToItsOwnBoundAndOthersAreNot) {
  ConnectionLimiter limiter({.max_client_connections = 100,
                             .max_client_connections_per_address = 2,
                             .max_msg_server_connections = 1});
  std::vector<ConnectionLimiter::Ticket> tickets(4);
  const PeerAddress busy = ipv4("192.0.2.7");
  EXPECT_EQ(limiter.admit(PortKind::kClient, busy, tickets[0]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kClient, busy, tickets[1]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kClient, busy, tickets[2]), Admission::kOverPerAddress);
  EXPECT_EQ(limiter.admit(PortKind::kClient, ipv4("192.0.2.8"), tickets[3]), Admission::kAdmitted);
  EXPECT_EQ(limiter.open_from(busy), 2u);
  ConnectionLimiter::Ticket moved = std::move(tickets[0]);  // moving holds one place, not two
  EXPECT_EQ(limiter.open_from(busy), 2u);
  moved.reset();
  EXPECT_EQ(limiter.open_from(busy), 1u);
  EXPECT_EQ(limiter.admit(PortKind::kClient, busy, tickets[2]), Admission::kAdmitted);
}

TEST(ConnectionLimiter, TheMsgServerPortHasABoundOfItsOwn) {
  ConnectionLimiter limiter({.max_client_connections = 1,
                             .max_client_connections_per_address = 1,
                             .max_msg_server_connections = 2});
  const PeerAddress loopback = ipv4("127.0.0.1");
  ConnectionLimiter::Ticket client;
  ASSERT_EQ(limiter.admit(PortKind::kClient, loopback, client), Admission::kAdmitted);
  // The client port is full, also for this address; msg_server still gets in.
  std::vector<ConnectionLimiter::Ticket> msg(3);
  EXPECT_EQ(limiter.admit(PortKind::kMsgServer, loopback, msg[0]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kMsgServer, loopback, msg[1]), Admission::kAdmitted);
  EXPECT_EQ(limiter.admit(PortKind::kMsgServer, loopback, msg[2]), Admission::kOverTotal);
  EXPECT_EQ(limiter.open(PortKind::kMsgServer), 2u);
  EXPECT_EQ(limiter.open(PortKind::kClient), 1u);
}

TEST(ConnectionLimiter, AddressesPrintAsTheyAreWritten) {
  EXPECT_EQ(ipv4("203.0.113.9").str(), "203.0.113.9");
  sockaddr_storage storage{};
  auto& addr = reinterpret_cast<sockaddr_in6&>(storage);
  addr.sin6_family = AF_INET6;
  ::inet_pton(AF_INET6, "2001:db8::1", &addr.sin6_addr);
  EXPECT_EQ(PeerAddress::from(storage).str(), "2001:db8::1");
}

TEST(ConnectionLimiter, IoThreadsAdmittingAndClosingAtOnceNeverPassTheBounds) {
  constexpr size_t kTotal = 40;
  constexpr size_t kPerAddress = 10;
  ConnectionLimiter limiter({.max_client_connections = kTotal,
                             .max_client_connections_per_address = kPerAddress,
                             .max_msg_server_connections = 1});
  std::vector<std::thread> threads;
  std::atomic<bool> over{false};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      std::vector<ConnectionLimiter::Ticket> held;
      for (int i = 0; i < 2000; ++i) {
        const PeerAddress from = ipv4(i % 3 == 0 ? "10.1.1.1" : (t % 2 ? "10.1.1.2" : "10.1.1.3"));
        ConnectionLimiter::Ticket ticket;
        if (limiter.admit(PortKind::kClient, from, ticket) == Admission::kAdmitted) {
          held.push_back(std::move(ticket));
        }
        if (limiter.open(PortKind::kClient) > kTotal || limiter.open_from(from) > kPerAddress)
          over = true;
        if (held.size() > 5) held.erase(held.begin());
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_FALSE(over.load());
  EXPECT_EQ(limiter.open(PortKind::kClient), 0u);
  EXPECT_EQ(limiter.open_from(ipv4("10.1.1.1")), 0u);
}

}  // namespace
}  // namespace ttfs::net
