#include "client/connection.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <google/protobuf/message_lite.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ttfs::client {

namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 256 * 1024;

std::string errno_text(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (left <= 0) return 0;
  return left > INT32_MAX ? INT32_MAX : static_cast<int>(left);
}

}  // namespace

Connection::Connection(int fd, uint32_t max_pdu_length)
    : fd_(fd), max_pdu_length_(max_pdu_length), rx_(kReadChunk) {}

Connection::Connection(Connection&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      max_pdu_length_(other.max_pdu_length_),
      rx_(std::move(other.rx_)),
      rx_begin_(std::exchange(other.rx_begin_, 0)),
      rx_end_(std::exchange(other.rx_end_, 0)) {}

Connection& Connection::operator=(Connection&& other) noexcept {
  if (this != &other) {
    close();
    fd_ = std::exchange(other.fd_, -1);
    max_pdu_length_ = other.max_pdu_length_;
    rx_ = std::move(other.rx_);
    rx_begin_ = std::exchange(other.rx_begin_, 0);
    rx_end_ = std::exchange(other.rx_end_, 0);
  }
  return *this;
}

Connection::~Connection() { close(); }

Result<Connection> Connection::connect(const std::string& host, uint16_t port,
                                       std::chrono::milliseconds timeout, uint32_t max_pdu_length) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return Status::error(ErrorCode::kInvalidArgument, "not an IPv4 address: '" + host + "'");
  }
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status::error(ErrorCode::kIo, errno_text("socket"));
  Connection conn(fd, max_pdu_length);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

  const std::string where = host + ":" + std::to_string(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS)
      return Status::error(ErrorCode::kIo, errno_text(("connect " + where).c_str()));
    Status s = conn.wait(POLLOUT, Clock::now() + timeout);
    if (!s.ok()) {
      return Status::error(s.code(), "connect " + where + ": " + s.message());
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return Status::error(ErrorCode::kIo, "connect " + where + ": " + std::strerror(err));
    }
  }
  return conn;
}

Connection Connection::adopt(int fd, uint32_t max_pdu_length) {
  const int flags = ::fcntl(fd, F_GETFL);
  ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return Connection(fd, max_pdu_length);
}

Status Connection::wait(short events, Clock::time_point deadline) {
  for (;;) {
    pollfd p{fd_, events, 0};
    const int n = ::poll(&p, 1, remaining_ms(deadline));
    if (n > 0) return {};
    if (n == 0) return Status::error(ErrorCode::kTimeout, "no progress within the timeout");
    if (errno != EINTR) return Status::error(ErrorCode::kIo, errno_text("poll"));
  }
}

Status Connection::send(std::span<const uint8_t> pdu, std::chrono::milliseconds timeout) {
  if (fd_ < 0) return Status::error(ErrorCode::kClosed, "connection is closed");
  const auto deadline = Clock::now() + timeout;
  size_t sent = 0;
  while (sent < pdu.size()) {
    const ssize_t n = ::send(fd_, pdu.data() + sent, pdu.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = wait(POLLOUT, deadline);
      if (!s.ok()) return Status::error(s.code(), "send: " + s.message());
      continue;
    }
    if (errno == EPIPE || errno == ECONNRESET) {
      return Status::error(ErrorCode::kClosed, errno_text("send"));
    }
    return Status::error(ErrorCode::kIo, errno_text("send"));
  }
  return {};
}

Status Connection::send_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num,
                            const google::protobuf::MessageLite& body,
                            std::chrono::milliseconds timeout) {
  const Bytes pdu = net::encode_pdu(service_id, command_id, seq_num, body);
  return send(pdu.span(), timeout);
}

void Connection::compact() {
  if (rx_begin_ == 0) return;
  std::memmove(rx_.data(), rx_.data() + rx_begin_, rx_end_ - rx_begin_);
  rx_end_ -= rx_begin_;
  rx_begin_ = 0;
}

Result<Pdu> Connection::receive(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return Status::error(ErrorCode::kClosed, "connection is closed");
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::span<const uint8_t> input(rx_.data() + rx_begin_, rx_end_ - rx_begin_);
    const net::FrameResult frame = net::next_frame(input, max_pdu_length_);
    switch (frame.status) {
      case net::FrameStatus::kFrame: {
        Pdu pdu{frame.header, Bytes::copy_of(input.first(frame.header.length))};
        rx_begin_ += frame.header.length;
        if (rx_begin_ == rx_end_) rx_begin_ = rx_end_ = 0;
        return pdu;
      }
      case net::FrameStatus::kTooShort:
        return Status::error(
            ErrorCode::kProtocol,
            "PDU length " + std::to_string(frame.header.length) + " is under the 16-byte header");
      case net::FrameStatus::kTooLong:
        return Status::error(ErrorCode::kProtocol,
                             "PDU length " + std::to_string(frame.header.length) +
                                 " is over the maximum " + std::to_string(max_pdu_length_));
      case net::FrameStatus::kNeedMore: break;
    }
    // Make room for at least the rest of this PDU (when its length is known)
    // or another chunk, so that one large PDU is read without re-framing.
    const size_t pending = rx_end_ - rx_begin_;
    const size_t want = pending >= net::kPduHeaderSize ? frame.header.length : kReadChunk;
    if (rx_.size() - rx_end_ < kReadChunk / 4 || rx_.size() - rx_begin_ < want) compact();
    if (rx_.size() < want) rx_.resize(want);
    if (rx_.size() - rx_end_ == 0) rx_.resize(rx_.size() + kReadChunk);

    const ssize_t n = ::recv(fd_, rx_.data() + rx_end_, rx_.size() - rx_end_, 0);
    if (n > 0) {
      rx_end_ += static_cast<size_t>(n);
      continue;
    }
    if (n == 0) {
      return Status::error(ErrorCode::kClosed,
                           pending == 0 ? "the server closed the connection"
                                        : "the server closed the connection inside a PDU (" +
                                              std::to_string(pending) + " bytes pending)");
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      Status s = wait(POLLIN, deadline);
      if (!s.ok()) {
        if (s.code() == ErrorCode::kTimeout) {
          return Status::error(ErrorCode::kTimeout,
                               "no PDU within " + std::to_string(timeout.count()) + " ms");
        }
        return s;
      }
      continue;
    }
    if (errno == ECONNRESET) return Status::error(ErrorCode::kClosed, errno_text("recv"));
    return Status::error(ErrorCode::kIo, errno_text("recv"));
  }
}

void Connection::close_gracefully(std::chrono::milliseconds grace) {
  if (fd_ < 0) return;
  ::shutdown(fd_, SHUT_WR);
  const auto deadline = Clock::now() + grace;
  uint8_t sink[4096];
  for (;;) {
    const ssize_t n = ::recv(fd_, sink, sizeof sink, 0);
    if (n > 0) continue;
    if (n == 0) break;
    if (errno == EINTR) continue;
    if ((errno == EAGAIN || errno == EWOULDBLOCK) && wait(POLLIN, deadline).ok()) continue;
    break;
  }
  close();
}

void Connection::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  rx_begin_ = rx_end_ = 0;
}

}  // namespace ttfs::client
