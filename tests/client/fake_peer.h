#pragma once

// A scripted stand-in for the server, for the client library's unit tests:
// it listens on 127.0.0.1, port 0, accepts one connection on its own thread
// and runs a script against it. Every wait in a script has a timeout, so a
// client that misbehaves fails the test instead of hanging it.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <optional>
#include <thread>

#include "client/connection.h"
#include "client/pattern_source.h"
#include "client/transfer_types.h"
#include "net/pdu.h"

namespace ttfs::client::testing {

using namespace std::chrono_literals;

inline constexpr char kTaskId[] = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
inline constexpr auto kScriptTimeout = 5s;

class FakePeer {
 public:
  using Script = std::function<void(Connection&)>;

  explicit FakePeer(Script script) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
        ::listen(listen_fd_, 4) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ADD_FAILURE() << "fake peer cannot listen";
    }
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this, script = std::move(script)] {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 5000) != 1) {
        ADD_FAILURE() << "fake peer: no client connected";
        return;
      }
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        ADD_FAILURE() << "fake peer: accept failed";
        return;
      }
      Connection conn = Connection::adopt(fd);
      script(conn);
    });
  }
  ~FakePeer() {
    join();
    ::close(listen_fd_);
  }
  FakePeer(const FakePeer&) = delete;
  FakePeer& operator=(const FakePeer&) = delete;

  void join() {
    if (thread_.joinable()) thread_.join();
  }
  Endpoint endpoint() const { return {"127.0.0.1", port_}; }

 private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

// Checks the fixed header fields and returns the next PDU, if it is `cid`.
inline std::optional<Pdu> expect_pdu(Connection& conn, uint16_t sid, uint16_t cid) {
  auto pdu = conn.receive(kScriptTimeout);
  if (!pdu) {
    ADD_FAILURE() << "fake peer waited for cid " << cid << ": " << pdu.status().to_string();
    return std::nullopt;
  }
  const net::PduHeader& h = pdu->header;
  EXPECT_EQ(h.length, pdu->bytes.size());
  EXPECT_EQ(h.version, 1);
  EXPECT_EQ(h.flag, 0);
  EXPECT_EQ(h.reserved, 0);
  EXPECT_EQ(h.service_id, sid);
  EXPECT_EQ(h.command_id, cid);
  if (h.service_id != sid || h.command_id != cid) return std::nullopt;
  return std::move(pdu).value();
}

template <class M>
M parse_body(const Pdu& pdu) {
  M m;
  const auto body = pdu.body();
  EXPECT_TRUE(m.ParseFromArray(body.data(), static_cast<int>(body.size())));
  return m;
}

inline void send_msg(Connection& conn, uint16_t sid, uint16_t cid, uint16_t seq,
                     const google::protobuf::MessageLite& msg) {
  EXPECT_TRUE(conn.send_pdu(sid, cid, seq, msg, kScriptTimeout).ok());
}

// Waits for the client to close its side (a clean end of a script).
inline void expect_closed(Connection& conn) {
  for (;;) {
    auto pdu = conn.receive(kScriptTimeout);
    if (pdu) continue;  // e.g. a late heartbeat
    EXPECT_EQ(pdu.status().code(), ErrorCode::kClosed) << pdu.status().to_string();
    return;
  }
}

}  // namespace ttfs::client::testing

// Role-test helpers (file service).
#include "IM.File.pb.h"
#include "net/pull_data_codec.h"

namespace ttfs::client::testing {

// Expects LOGIN_REQ from `user` in `role` and answers it with `result`.
inline bool accept_login(Connection& conn, uint32_t user, FileRole role, uint32_t result = 0) {
  auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFileLoginReq);
  if (!pdu) return false;
  auto req = parse_body<IM::File::IMFileLoginReq>(*pdu);
  EXPECT_EQ(req.user_id(), user);
  EXPECT_EQ(req.task_id(), kTaskId);
  EXPECT_EQ(static_cast<uint32_t>(req.file_role()), static_cast<uint32_t>(role));
  IM::File::IMFileLoginRsp rsp;
  rsp.set_result_code(result);
  rsp.set_task_id(req.task_id());
  send_msg(conn, net::kSidFile, net::kCidFileLoginRsp, pdu->header.seq_num, rsp);
  return true;
}

inline void send_state(Connection& conn, FileState state, uint32_t user) {
  IM::File::IMFileState msg;
  msg.set_state(static_cast<IM::BaseDefine::ClientFileState>(state));
  msg.set_task_id(kTaskId);
  msg.set_user_id(user);
  send_msg(conn, net::kSidFile, net::kCidFileState, 0, msg);
}

inline void send_pull_req(Connection& conn, uint16_t seq, uint32_t user, TransferMode mode,
                          uint32_t offset, uint32_t size) {
  IM::File::IMFilePullDataReq req;
  req.set_task_id(kTaskId);
  req.set_user_id(user);
  req.set_trans_mode(static_cast<IM::BaseDefine::TransferFileType>(mode));
  req.set_offset(offset);
  req.set_data_size(size);
  send_msg(conn, net::kSidFile, net::kCidFilePullDataReq, seq, req);
}

// The exact PULL_DATA_RSP bytes a correct peer sends for pattern `seed`.
inline Bytes expected_rsp(uint16_t seq, uint32_t user, uint32_t offset, uint32_t size,
                          uint64_t seed, uint32_t result = 0) {
  auto rsp = net::build_pull_data_rsp(seq, result, kTaskId, user, offset, size);
  PatternSource(seed).fill(offset, rsp.pdu.span().subspan(rsp.data_offset, size));
  return std::move(rsp.pdu);
}

inline void send_bytes(Connection& conn, const Bytes& pdu) {
  EXPECT_TRUE(conn.send(pdu.span(), kScriptTimeout).ok());
}

inline std::optional<IM::File::IMFileState> expect_state(Connection& conn) {
  auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFileState);
  if (!pdu) return std::nullopt;
  return parse_body<IM::File::IMFileState>(*pdu);
}

}  // namespace ttfs::client::testing
