#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <deque>

#include "common/bytes.h"
#include "net/conn_handle.h"
#include "net/connection_limiter.h"
#include "net/pdu_reader.h"
#include "net/socket_ops.h"

namespace ttfs::net {

// One accepted socket. Lives on, and is touched only by, its IO thread.
class Connection {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(UniqueFd fd, ConnHandle handle, PortKind port, Clock::time_point now,
             ConnectionLimiter::Ticket ticket, uint32_t max_pdu_length)
      : fd_(std::move(fd)),
        handle_(handle),
        port_(port),
        ticket_(std::move(ticket)),
        opened_at_(now),
        input_(max_pdu_length),
        last_input_(now) {}

  int fd() const { return fd_.get(); }
  ConnHandle handle() const { return handle_; }
  PortKind port() const { return port_; }

  PduReader& input() { return input_; }
  Clock::time_point opened_at() const { return opened_at_; }
  Clock::time_point last_input() const { return last_input_; }
  void touch(Clock::time_point now) { last_input_ = now; }

  // Since when the input has held the start of a PDU that has not yet all
  // arrived (Clock::time_point{} when it holds none, or reading is paused):
  // every byte resets the idle timer, so only this catches a peer that
  // trickles a PDU.
  Clock::time_point partial_frame_since{};
  // A client-port connection that has sent a well-formed LOGIN_REQ; until
  // then the login deadline runs.
  bool logged_in = false;

  // Output is a queue of whole PDUs, so a forwarded segment is written from
  // the block it arrived in, never copied into a flat buffer.
  void queue_output(Bytes pdu) {
    output_bytes_ += pdu.size();
    output_.push_back(std::move(pdu));
  }
  size_t output_bytes() const { return output_bytes_; }
  bool has_output() const { return output_bytes_ > 0; }
  // Writes as much queued output as the socket takes; returns false on a
  // socket error (errno set), true otherwise (including EAGAIN).
  bool flush_output();

  bool output_pending_flush = false;  // queued by IoThread::deliver, written after its batch
  bool reading_paused = false;
  bool output_backlogged = false;  // over the high-water mark, not yet drained to half
  uint32_t requests_in_flight = 0;
  bool want_write = false;  // EPOLLOUT is registered
  bool close_when_flushed = false;
  bool lingering = false;  // our side shut down; waiting for the peer's close
  Clock::time_point linger_until;

 private:
  UniqueFd fd_;
  ConnHandle handle_;
  PortKind port_;
  ConnectionLimiter::Ticket ticket_;  // its place under the connection bounds
  Clock::time_point opened_at_;
  PduReader input_;
  std::deque<Bytes> output_;
  size_t output_head_offset_ = 0;  // bytes of output_.front() already written
  size_t output_bytes_ = 0;
  Clock::time_point last_input_;
};

}  // namespace ttfs::net
