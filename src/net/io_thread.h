#pragma once

#include <concurrentqueue/concurrentqueue.h>
#include <sys/epoll.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "common/log_throttle.h"
#include "net/conn_handle.h"
#include "net/connection.h"
#include "net/connection_limiter.h"
#include "net/pdu.h"
#include "net/socket_ops.h"

namespace ttfs::net {

class IoThread;

// What the layer above does with traffic. Every call is made on the IO
// thread that owns the connection; implementations batch their hand-offs
// and flush them in on_iteration_end.
class FrameHandler {
 public:
  virtual ~FrameHandler() = default;
  // A whole, framed PDU; its bytes are the handler's from now on.
  virtual void on_frame(IoThread& io, ConnHandle conn, PortKind port, const PduHeader& header,
                        Bytes pdu) = 0;
  // The connection is gone (peer closed, error, timeout, or closed on request).
  virtual void on_closed(IoThread& io, ConnHandle conn, PortKind port) = 0;
  virtual void on_iteration_end(IoThread& io) = 0;
};

struct IoOptions {
  uint32_t max_pdu_length = 1024 * 1024 + 1024;
  ConnectionLimits connection_limits;  // shared by every IO thread, see ConnectionLimiter
  // A peer whose output is this far behind is not read from.
  size_t output_high_water = 4 * 1024 * 1024;
  // Requests of one connection at the workers, not yet answered, before it
  // is read from no more: bounds what one read of small requests can set off.
  uint32_t max_requests_in_flight = 64;
  std::chrono::seconds client_idle_timeout{120};
  std::chrono::seconds msg_server_idle_timeout{30};
  // A client-port connection must send a well-formed LOGIN_REQ within this,
  // however much else it sends meanwhile.
  std::chrono::seconds login_timeout{30};
  // A PDU whose first byte has arrived must be whole within this, on both
  // ports, so a peer that trickles a header a byte a second is closed.
  std::chrono::seconds frame_timeout{60};
};

enum class OutboundAction : uint8_t { kSend, kSendThenClose, kClose };

// A reply or forward from another thread to a connection of this thread.
struct OutboundMessage {
  ConnHandle to;
  OutboundAction action = OutboundAction::kSend;
  Bytes pdu;
  bool answers_request = false;  // settles one count_request() of `to`
};

struct IoStats {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> closed{0};
  std::atomic<uint64_t> protocol_errors{0};
  std::atomic<uint64_t> idle_timeouts{0};
  std::atomic<uint64_t> login_timeouts{0};
  std::atomic<uint64_t> frame_timeouts{0};
  // Connections closed as soon as accepted, by the bound they were over.
  std::atomic<uint64_t> refused_over_total{0};
  std::atomic<uint64_t> refused_over_per_address{0};
  std::atomic<uint64_t> open_connections{0};
};

// One event loop on one thread (muduo's one-loop-per-thread): it owns its
// listeners (SO_REUSEPORT), its connections, and an inbound queue that other
// threads post to, woken by an eventfd.
class IoThread {
 public:
  // `limiter` is shared by every IO thread of the server and outlives them.
  IoThread(uint16_t index, IoOptions options, FrameHandler& handler, ConnectionLimiter& limiter);
  ~IoThread();
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  void add_listener(UniqueFd fd, PortKind port);  // before start()
  void start();
  // Thread-safe: closes this thread's listening sockets, so that connects
  // the kernel would have handed to them are refused, and returns once they
  // are closed. The connections already open are served on.
  void stop_accepting();
  void stop();  // thread-safe; closes everything and joins

  uint16_t index() const { return index_; }
  const IoStats& stats() const { return stats_; }

  // Thread-safe: messages for this thread's connections.
  void post(std::vector<OutboundMessage>& batch);
  void post(OutboundMessage message);

  // Loop thread only.
  void send(ConnHandle conn, Bytes pdu);
  // The connection's frame just handed on is a request that will be answered
  // by an OutboundMessage with answers_request set.
  void count_request(ConnHandle conn);
  // The connection sent a well-formed LOGIN_REQ: its login deadline is met.
  void mark_logged_in(ConnHandle conn);
  void close(ConnHandle conn, bool after_flush, const char* reason);

 private:
  struct Slot {
    std::unique_ptr<Connection> conn;
    uint32_t generation = 0;
  };

  void run();
  void close_listeners();
  void wake();
  void accept_all(int listen_fd, PortKind port);
  // Whether the bounds let one more connection from `address` in; counts
  // and logs a refusal.
  bool admit(PortKind port, const sockaddr_storage& address, ConnectionLimiter::Ticket& ticket);
  // Reads once and hands on every whole PDU; false once nothing more can be
  // read now (EAGAIN, end of stream, an error, or the connection closed).
  bool handle_readable(Connection& conn);
  // Hands on the whole PDUs in the input buffer until it runs out or the
  // connection is paused; false if the connection is gone.
  bool dispatch_frames(ConnHandle handle);
  void handle_writable(Connection& conn);
  void drain_inbound();
  void deliver(OutboundMessage& message);
  void flush_delivered();
  void queue_and_flush(Connection& conn, Bytes pdu);
  void update_interest(Connection& conn);
  // Closes gracefully once the output is flushed: see the definition.
  void linger(Connection& conn);
  void close_now(Connection& conn, const char* reason);
  // Closes the connections past one of their deadlines: idle, login, frame.
  void expire_idle(Connection::Clock::time_point now);
  // Why `conn` is past a deadline at `now`, counted; nullptr if it is not.
  const char* deadline_passed(const Connection& conn, Connection::Clock::time_point now);
  Connection* find(ConnHandle handle);

  const uint16_t index_;
  const IoOptions options_;
  FrameHandler& handler_;
  ConnectionLimiter& limiter_;
  LogThrottle refusal_log_;   // connections refused at accept
  LogThrottle deadline_log_;  // connections closed by a deadline
  UniqueFd epoll_fd_;
  UniqueFd wake_fd_;
  std::vector<std::pair<UniqueFd, PortKind>> listeners_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<ConnHandle> delivered_;  // connections deliver() queued output to
  moodycamel::ConcurrentQueue<OutboundMessage> inbound_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listeners_close_requested_{false};
  std::atomic<bool> listeners_closed_{false};
  std::thread thread_;
  IoStats stats_;
};

}  // namespace ttfs::net
