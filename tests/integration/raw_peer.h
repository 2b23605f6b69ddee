#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.h"
#include "net/pdu.h"

namespace ttfs::testing {

// A bare TCP peer, for what no client library would do: connect from a
// chosen loopback address, send a PDU a byte at a time, stay silent.
class RawPeer {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to 127.0.0.1:port from `from` (any 127.x.y.z works on Linux).
  static RawPeer connect(uint16_t port, const std::string& from = "127.0.0.1") {
    RawPeer peer;
    peer.fd_ = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in source{};
    source.sin_family = AF_INET;
    ::inet_pton(AF_INET, from.c_str(), &source.sin_addr);
    ::bind(peer.fd_.get(), reinterpret_cast<sockaddr*>(&source), sizeof source);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
    peer.connected_ = ::connect(peer.fd_.get(), reinterpret_cast<sockaddr*>(&to), sizeof to) == 0;
    return peer;
  }

  bool connected() const { return connected_; }

  bool send(std::span<const uint8_t> bytes) {
    return ::send(fd_.get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

  // Reads one whole PDU; false if the server closed or nothing came in time.
  bool receive_pdu(std::chrono::milliseconds limit, std::vector<uint8_t>* pdu = nullptr) {
    const auto deadline = Clock::now() + limit;
    while (!has_whole_pdu()) {
      if (!read_some(deadline)) return false;
    }
    const uint32_t length = net::read_header(input_.data()).length;
    if (pdu != nullptr) pdu->assign(input_.begin(), input_.begin() + length);
    input_.erase(input_.begin(), input_.begin() + length);
    return true;
  }

  // True once the server has closed (end of stream or a reset), reading
  // and dropping whatever it sends first; false if it is still open then.
  bool closed_within(std::chrono::milliseconds limit) {
    const auto deadline = Clock::now() + limit;
    while (read_some(deadline)) input_.clear();
    return closed_;
  }

 private:
  bool has_whole_pdu() const {
    return input_.size() >= net::kPduHeaderSize &&
           input_.size() >= net::read_header(input_.data()).length;
  }

  // Reads what arrives before `deadline`; false on a close or the deadline.
  bool read_some(Clock::time_point deadline) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
    uint8_t chunk[64 * 1024];
    const ssize_t n = ::recv(fd_.get(), chunk, sizeof chunk, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    input_.insert(input_.end(), chunk, chunk + n);
    return true;
  }

  UniqueFd fd_;
  bool connected_ = false;
  bool closed_ = false;
  std::vector<uint8_t> input_;
};

inline std::vector<uint8_t> heartbeat_pdu(uint16_t seq, uint32_t length = net::kPduHeaderSize) {
  std::vector<uint8_t> bytes(length);
  net::PduHeader header;
  header.length = length;
  header.service_id = net::kSidOther;
  header.command_id = net::kCidHeartbeat;
  header.seq_num = seq;
  net::write_header(header, bytes.data());
  return bytes;
}

// Polls `done` until it holds or `limit` passes.
template <typename Predicate>
bool eventually(Predicate done, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

}  // namespace ttfs::testing
