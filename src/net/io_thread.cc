#include "net/io_thread.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/block_pool.h"
#include "net/pull_data_codec.h"

namespace ttfs::net {

namespace {

// epoll_event.data.u64 tags: a connection is (generation << 32 | slot), so
// an event for a slot that was closed and reused in the same batch is seen
// to be stale.
constexpr uint64_t kWakeTag = 1ull << 63;
constexpr uint64_t kListenerTag = 1ull << 62;
constexpr uint32_t kMaxGeneration = 1u << 30;

uint64_t conn_tag(ConnHandle h) { return static_cast<uint64_t>(h.generation) << 32 | h.slot; }

constexpr int kMaxEvents = 256;
constexpr int kReadsPerWakeup = 8;
constexpr auto kQuietBeforeShrinking = std::chrono::seconds(2);
constexpr auto kLingerLimit = std::chrono::seconds(2);

}  // namespace

IoThread::IoThread(uint16_t index, IoOptions options, FrameHandler& handler,
                   ConnectionLimiter& limiter)
    : index_(index),
      options_(options),
      handler_(handler),
      limiter_(limiter),
      epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (!epoll_fd_.valid() || !wake_fd_.valid()) {
    throw std::system_error(errno, std::generic_category(), "epoll/eventfd");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, wake_fd_.get(), &ev);
}

IoThread::~IoThread() { stop(); }

void IoThread::add_listener(UniqueFd fd, PortKind port) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kListenerTag | listeners_.size();
  if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, fd.get(), &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl listener");
  }
  listeners_.emplace_back(std::move(fd), port);
}

void IoThread::start() {
  thread_ = std::thread([this] { run(); });
}

void IoThread::stop_accepting() {
  if (!thread_.joinable()) {  // no loop to ask
    close_listeners();
    return;
  }
  // The loop owns the listeners and may be accepting on one right now, so
  // it closes them itself, between two epoll_waits.
  listeners_close_requested_.store(true, std::memory_order_release);
  wake();
  listeners_closed_.wait(false, std::memory_order_acquire);
}

void IoThread::close_listeners() {
  for (auto& [fd, port] : listeners_)
    ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, fd.get(), nullptr);
  listeners_.clear();
  listeners_closed_.store(true, std::memory_order_release);
  listeners_closed_.notify_all();
}

void IoThread::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  wake();
  thread_.join();
}

void IoThread::wake() {
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_.get(), &one, sizeof one);
}

void IoThread::post(std::vector<OutboundMessage>& batch) {
  if (batch.empty()) return;
  inbound_.enqueue_bulk(std::make_move_iterator(batch.begin()), batch.size());
  batch.clear();
  wake();
}

void IoThread::post(OutboundMessage message) {
  inbound_.enqueue(std::move(message));
  wake();
}

Connection* IoThread::find(ConnHandle handle) {
  if (handle.thread != index_ || handle.slot >= slots_.size()) return nullptr;
  Slot& slot = slots_[handle.slot];
  if (!slot.conn || slot.generation != handle.generation) return nullptr;
  return slot.conn.get();
}

void IoThread::run() {
  epoll_event events[kMaxEvents];
  auto next_tick = Connection::Clock::now() + std::chrono::seconds(1);
  while (!stopping_.load(std::memory_order_acquire)) {
    // Here, and not among the events below, so that no event of this round
    // can name a listener already closed.
    if (listeners_close_requested_.load(std::memory_order_acquire) &&
        !listeners_closed_.load(std::memory_order_relaxed)) {
      close_listeners();
    }
    const int n = ::epoll_wait(epoll_fd_.get(), events, kMaxEvents, 1000);
    if (n < 0 && errno != EINTR) {
      spdlog::critical("io[{}]: epoll_wait: {}", index_, std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      const uint64_t tag = events[i].data.u64;
      if (tag == kWakeTag) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_.get(), &count, sizeof count);
        continue;
      }
      if (tag & kListenerTag) {
        auto& [fd, port] = listeners_[tag & ~kListenerTag];
        accept_all(fd.get(), port);
        continue;
      }
      const auto slot = static_cast<uint32_t>(tag);
      Connection* conn = find({index_, slot, static_cast<uint32_t>(tag >> 32)});
      if (conn == nullptr) continue;  // closed earlier in this batch
      if (events[i].events & (EPOLLERR | EPOLLHUP)) {
        // Read all that is left first: a peer may send its last PDUs and close.
        const ConnHandle handle{index_, slot, static_cast<uint32_t>(tag >> 32)};
        while ((events[i].events & EPOLLIN) && (conn = find(handle)) != nullptr &&
               !conn->reading_paused && handle_readable(*conn)) {
        }
        if ((conn = find(handle)) != nullptr) close_now(*conn, "peer hung up");
        continue;
      }
      if (events[i].events & EPOLLIN) handle_readable(*conn);
      conn = find({index_, slot, static_cast<uint32_t>(tag >> 32)});
      if (conn != nullptr && (events[i].events & EPOLLOUT)) handle_writable(*conn);
    }
    drain_inbound();
    handler_.on_iteration_end(*this);
    const auto now = Connection::Clock::now();
    if (now >= next_tick) {
      expire_idle(now);
      next_tick = now + std::chrono::seconds(1);
    }
  }
  // Replies posted before stop() still go out (a DONE that ended a
  // transfer the shutdown waited for), as far as the sockets take them now.
  drain_inbound();
  // Shutdown: the layers above are stopping too, so they are not told.
  for (Slot& slot : slots_) slot.conn.reset();
  close_listeners();  // also releases a stop_accepting() that raced with stop()
}

void IoThread::accept_all(int listen_fd, PortKind port) {
  for (;;) {
    sockaddr_storage peer{};
    socklen_t peer_length = sizeof peer;
    UniqueFd fd(::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &peer_length,
                          SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!fd.valid()) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
      if (errno == ECONNABORTED) continue;
      // EMFILE/ENFILE/ENOMEM: leave the backlog for a later round.
      spdlog::warn("io[{}]: accept: {}", index_, std::strerror(errno));
      return;
    }
    ConnectionLimiter::Ticket ticket;
    // Over a bound, the connection is closed at once (by UniqueFd), before
    // it costs a slot or a buffer.
    if (!admit(port, peer, ticket)) continue;
    const int one = 1;
    ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    uint32_t slot_index;
    if (!free_slots_.empty()) {
      slot_index = free_slots_.back();
      free_slots_.pop_back();
    } else {
      slot_index = static_cast<uint32_t>(slots_.size());
      slots_.emplace_back();
    }
    Slot& slot = slots_[slot_index];
    // Generations stay under bit 30 so a connection's tag never has a tag bit.
    if (++slot.generation >= kMaxGeneration) slot.generation = 1;
    const ConnHandle handle{index_, slot_index, slot.generation};
    slot.conn = std::make_unique<Connection>(std::move(fd), handle, port, Connection::Clock::now(),
                                             std::move(ticket), options_.max_pdu_length);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = conn_tag(handle);
    if (::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, slot.conn->fd(), &ev) != 0) {
      spdlog::warn("io[{}]: epoll_ctl add: {}", index_, std::strerror(errno));
      slot.conn.reset();
      free_slots_.push_back(slot_index);
      continue;
    }
    stats_.accepted.fetch_add(1, std::memory_order_relaxed);
    stats_.open_connections.fetch_add(1, std::memory_order_relaxed);
  }
}

bool IoThread::admit(PortKind port, const sockaddr_storage& peer,
                     ConnectionLimiter::Ticket& ticket) {
  const PeerAddress address = PeerAddress::from(peer);
  const Admission admission = limiter_.admit(port, address, ticket);
  if (admission == Admission::kAdmitted) return true;
  const bool per_address = admission == Admission::kOverPerAddress;
  (per_address ? stats_.refused_over_per_address : stats_.refused_over_total)
      .fetch_add(1, std::memory_order_relaxed);
  uint64_t held_back = 0;
  if (refusal_log_.allow(LogThrottle::Clock::now(), held_back)) {
    const ConnectionLimits& limits = limiter_.limits();
    if (per_address) {
      spdlog::warn(
          "io[{}]: refusing a connection from {}: it has {} open, MaxConnectionsPerIp is {} ({} "
          "more refused since the last line)",
          index_, address.str(), limiter_.open_from(address),
          limits.max_client_connections_per_address, held_back);
    } else if (port == PortKind::kClient) {
      spdlog::warn(
          "io[{}]: refusing a connection from {}: {} open on the client port, MaxConnections is "
          "{} ({} more refused since the last line)",
          index_, address.str(), limiter_.open(port), limits.max_client_connections, held_back);
    } else {
      spdlog::warn(
          "io[{}]: refusing a connection from {}: {} open on the msg-server port, "
          "MaxMsgServerConnections is {} ({} more refused since the last line)",
          index_, address.str(), limiter_.open(port), limits.max_msg_server_connections, held_back);
    }
  }
  return false;
}

bool IoThread::handle_readable(Connection& conn) {
  const ConnHandle handle = conn.handle();
  if (conn.lingering) {
    // Closing: what the peer still sends is read and dropped until it closes.
    uint8_t scratch[16 * 1024];
    const ssize_t n = ::read(conn.fd(), scratch, sizeof scratch);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
      close_now(conn, "closed after reply");
      return false;
    }
    return n > 0;
  }
  // Segments are read one PDU at a time (see PduReader). While reads come
  // back full, more is waiting: a few more are taken now rather than after
  // another epoll_wait, and reach the worker in the same hand-off.
  Connection* reading = &conn;
  for (int reads = 1;; ++reads) {
    const ssize_t n = reading->input().read_from(reading->fd());
    if (n == 0) {
      close_now(*reading, "peer closed");
      return false;
    }
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        close_now(*reading, std::strerror(errno));
      return false;
    }
    reading->touch(Connection::Clock::now());
    if (!dispatch_frames(handle)) return false;
    reading = find(handle);
    if (reading == nullptr) return false;
    if (reads == kReadsPerWakeup || !reading->input().last_read_filled() ||
        reading->reading_paused || reading->close_when_flushed || reading->lingering) {
      return true;
    }
  }
}

bool IoThread::dispatch_frames(ConnHandle handle) {
  // The codec loop: cut whole PDUs while they are there; a bad length closes
  // the connection before any of its body is waited for. A paused connection
  // keeps the rest in its input buffer until it is resumed.
  for (;;) {
    Connection* conn = find(handle);
    if (conn == nullptr) return false;  // the handler closed it
    if (conn->reading_paused || conn->close_when_flushed) {
      // What is not being read is not late: the frame deadline waits.
      conn->partial_frame_since = {};
      return true;
    }
    PduReader::Next frame = conn->input().next();
    if (frame.status == FrameStatus::kNeedMore) {
      if (!conn->input().holds_partial()) {
        conn->partial_frame_since = {};
      } else if (conn->partial_frame_since == Connection::Clock::time_point{}) {
        conn->partial_frame_since = Connection::Clock::now();
      }
      return true;
    }
    if (frame.status != FrameStatus::kFrame) {
      stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
      spdlog::info("io[{}]: {} sent a PDU length of {}; closing", index_, peer_address(conn->fd()),
                   frame.header.length);
      close_now(*conn, "bad PDU length");
      return false;
    }
    conn->partial_frame_since = {};  // the next PDU's deadline starts with its first byte
    handler_.on_frame(*this, handle, conn->port(), frame.header, std::move(frame.pdu));
  }
}

void IoThread::handle_writable(Connection& conn) {
  if (!conn.flush_output()) {
    close_now(conn, std::strerror(errno));
    return;
  }
  if (!conn.has_output() && conn.close_when_flushed) {
    linger(conn);
    return;
  }
  update_interest(conn);
}

void IoThread::linger(Connection& conn) {
  // A close() with unread input makes the kernel answer with a reset, and a
  // reset can destroy the last PDUs still on their way to the peer (the
  // DONE, the CANCEL). So the server only shuts its side down, then reads and
  // drops whatever the peer still sends until the peer closes too, or a
  // couple of seconds pass.
  if (conn.lingering) return;
  conn.lingering = true;
  conn.linger_until = Connection::Clock::now() + kLingerLimit;
  ::shutdown(conn.fd(), SHUT_WR);
  conn.reading_paused = false;
  conn.want_write = false;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = conn_tag(conn.handle());
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, conn.fd(), &ev);
}

void IoThread::queue_and_flush(Connection& conn, Bytes pdu) {
  const bool was_idle = !conn.has_output();
  conn.queue_output(std::move(pdu));
  // Write at once when nothing is queued ahead; otherwise EPOLLOUT drives it.
  if (was_idle && !conn.flush_output()) {
    close_now(conn, std::strerror(errno));
    return;
  }
  update_interest(conn);
}

void IoThread::send(ConnHandle handle, Bytes pdu) {
  Connection* conn = find(handle);
  if (conn == nullptr || conn->close_when_flushed) return;
  queue_and_flush(*conn, std::move(pdu));
}

void IoThread::close(ConnHandle handle, bool after_flush, const char* reason) {
  Connection* conn = find(handle);
  if (conn == nullptr) return;
  if (!after_flush) {
    close_now(*conn, reason);
    return;
  }
  conn->close_when_flushed = true;
  if (conn->has_output()) {
    update_interest(*conn);
  } else {
    linger(*conn);
  }
}

void IoThread::deliver(OutboundMessage& message) {
  Connection* conn = find(message.to);
  if (conn == nullptr) return;  // it closed while the message was on its way
  if (!message.pdu.empty() && !conn->close_when_flushed) {
    // Only queued: flush_delivered() writes each connection's output once
    // per batch, so the replies a worker sent together go out in one writev.
    if (!conn->output_pending_flush) {
      conn->output_pending_flush = true;
      delivered_.push_back(message.to);
    }
    conn->queue_output(std::move(message.pdu));
  }
  if (message.answers_request && conn->requests_in_flight > 0) {
    --conn->requests_in_flight;
    if (!conn->output_pending_flush) update_interest(*conn);
    if ((conn = find(message.to)) == nullptr) return;
  }
  if (message.action != OutboundAction::kSend) close(message.to, true, "closed by the server");
}

void IoThread::flush_delivered() {
  for (const ConnHandle handle : delivered_) {
    Connection* conn = find(handle);
    if (conn == nullptr) continue;
    conn->output_pending_flush = false;
    handle_writable(*conn);
  }
  delivered_.clear();
}

void IoThread::drain_inbound() {
  OutboundMessage batch[64];
  size_t n;
  while ((n = inbound_.try_dequeue_bulk(batch, 64)) > 0) {
    for (size_t i = 0; i < n; ++i) {
      deliver(batch[i]);
      batch[i].pdu = Bytes();
    }
    flush_delivered();
  }
}

void IoThread::update_interest(Connection& conn) {
  if (conn.lingering) return;  // reads only, until it is closed
  // Backpressure: a connection whose output is far behind, or that has as
  // many requests at the workers as it may, is not read from, so a peer that
  // does not read cannot make the server buffer more. The output bound has
  // hysteresis so that a connection near it is not toggled on every PDU.
  if (conn.output_backlogged) {
    conn.output_backlogged = conn.output_bytes() > options_.output_high_water / 2;
  } else {
    conn.output_backlogged = conn.output_bytes() > options_.output_high_water;
  }
  const bool pause = conn.close_when_flushed || conn.output_backlogged ||
                     conn.requests_in_flight >= options_.max_requests_in_flight;
  const bool want_write = conn.has_output();
  if (pause == conn.reading_paused && want_write == conn.want_write) return;
  const bool resumed = conn.reading_paused && !pause;
  conn.reading_paused = pause;
  conn.want_write = want_write;
  epoll_event ev{};
  ev.events = (pause ? 0u : static_cast<uint32_t>(EPOLLIN)) | (want_write ? EPOLLOUT : 0u);
  ev.data.u64 = conn_tag(conn.handle());
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_MOD, conn.fd(), &ev);
  // PDUs that arrived while paused are still in the input buffer.
  if (resumed) dispatch_frames(conn.handle());
}

void IoThread::count_request(ConnHandle handle) {
  Connection* conn = find(handle);
  if (conn == nullptr) return;
  if (++conn->requests_in_flight >= options_.max_requests_in_flight) update_interest(*conn);
}

void IoThread::mark_logged_in(ConnHandle handle) {
  if (Connection* conn = find(handle)) conn->logged_in = true;
}

void IoThread::close_now(Connection& conn, const char* reason) {
  const ConnHandle handle = conn.handle();
  const PortKind port = conn.port();
  if (spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("io[{}]: closing {} ({})", index_, peer_address(conn.fd()), reason);
  }
  ::epoll_ctl(epoll_fd_.get(), EPOLL_CTL_DEL, conn.fd(), nullptr);
  slots_[handle.slot].conn.reset();
  free_slots_.push_back(handle.slot);
  stats_.closed.fetch_add(1, std::memory_order_relaxed);
  stats_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  handler_.on_closed(*this, handle, port);
}

void IoThread::expire_idle(Connection::Clock::time_point now) {
  // Every IO thread ticks; the pool trims at most once a second among them.
  BlockPool::shared().trim(now);
  for (Slot& slot : slots_) {
    if (!slot.conn) continue;
    // A busy connection keeps its input block; a quiet one gives it back,
    // so thousands of idle connections cost little memory.
    if (now - slot.conn->last_input() > kQuietBeforeShrinking)
      slot.conn->input().release_idle_memory();
    if (slot.conn->lingering) {
      if (now >= slot.conn->linger_until) close_now(*slot.conn, "closed after reply");
      continue;
    }
    if (const char* why = deadline_passed(*slot.conn, now)) {
      uint64_t held_back = 0;
      if (deadline_log_.allow(now, held_back)) {
        spdlog::info("io[{}]: closing {}: {} ({} more closed so since the last line)", index_,
                     peer_address(slot.conn->fd()), why, held_back);
      }
      close_now(*slot.conn, why);
    }
  }
}

const char* IoThread::deadline_passed(const Connection& conn, Connection::Clock::time_point now) {
  const bool client = conn.port() == PortKind::kClient;
  const auto idle_limit = client ? options_.client_idle_timeout : options_.msg_server_idle_timeout;
  if (now - conn.last_input() > idle_limit) {
    stats_.idle_timeouts.fetch_add(1, std::memory_order_relaxed);
    return "nothing received within the idle timeout";
  }
  // Traffic resets the idle timer, so a peer that keeps sending something
  // other than a login, or trickles a PDU, is caught by these two instead.
  if (client && !conn.logged_in && now - conn.opened_at() > options_.login_timeout) {
    stats_.login_timeouts.fetch_add(1, std::memory_order_relaxed);
    return "no LOGIN_REQ within LoginTimeout";
  }
  if (conn.partial_frame_since != Connection::Clock::time_point{} &&
      now - conn.partial_frame_since > options_.frame_timeout) {
    stats_.frame_timeouts.fetch_add(1, std::memory_order_relaxed);
    return "a PDU not whole within FrameTimeout";
  }
  return nullptr;
}

}  // namespace ttfs::net
