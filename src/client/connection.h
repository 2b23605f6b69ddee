#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "client/status.h"
#include "common/bytes.h"
#include "net/pdu.h"

namespace google::protobuf {
class MessageLite;
}

namespace ttfs::client {

// Room for a few MiB segments, far above TeamTalk's 32 KiB, and still a bound
// that stops a corrupt length field from allocating gigabytes.
inline constexpr uint32_t kDefaultMaxPduLength = 8u << 20;

// One whole PDU as received: its decoded header and all of its bytes.
struct Pdu {
  net::PduHeader header;
  Bytes bytes;  // header included

  std::span<const uint8_t> body() const { return bytes.span().subspan(net::kPduHeaderSize); }
};

// A blocking TCP connection that speaks in PDUs. Every call takes or has a
// timeout; failures come back as Status, never as exceptions or signals.
// Move-only; the socket is closed by close() or the destructor.
class Connection {
 public:
  // `host` is an IPv4 address in dotted text.
  static Result<Connection> connect(const std::string& host, uint16_t port,
                                    std::chrono::milliseconds timeout,
                                    uint32_t max_pdu_length = kDefaultMaxPduLength);
  // Takes ownership of a connected socket (a test's fake server side).
  static Connection adopt(int fd, uint32_t max_pdu_length = kDefaultMaxPduLength);

  Connection() = default;
  Connection(Connection&& other) noexcept;
  Connection& operator=(Connection&& other) noexcept;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // Sends whole PDUs, waiting at most `timeout` for the socket to drain.
  Status send(std::span<const uint8_t> pdu, std::chrono::milliseconds timeout);
  Status send_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num,
                  const google::protobuf::MessageLite& body, std::chrono::milliseconds timeout);

  // The next PDU, or kTimeout if none completes within `timeout`, kClosed on
  // orderly end of stream, kProtocol on a length outside [16, max]. After a
  // kProtocol or kClosed error the stream cannot be resynchronised.
  Result<Pdu> receive(std::chrono::milliseconds timeout);

  // Half-closes, then reads and discards until the peer closes or `grace`
  // passes, so that a last message is not lost to a reset caused by unread
  // input (Linux answers close() with RST when input is pending).
  void close_gracefully(std::chrono::milliseconds grace);
  // Closes at once; idempotent.
  void close();

 private:
  Connection(int fd, uint32_t max_pdu_length);
  // Waits for `events` on the socket; false on timeout, Status on error.
  Status wait(short events, std::chrono::steady_clock::time_point deadline);
  void compact();

  int fd_ = -1;
  uint32_t max_pdu_length_ = kDefaultMaxPduLength;
  std::vector<uint8_t> rx_;
  size_t rx_begin_ = 0;
  size_t rx_end_ = 0;
};

}  // namespace ttfs::client
