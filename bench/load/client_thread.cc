#include "client_thread.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "protocol_constants.h"
#include "receiver.h"
#include "sender.h"
#include "wire.h"

namespace ttfs::load {

namespace {

constexpr uint64_t kCreatorToken = UINT64_MAX;
constexpr auto kTick = std::chrono::milliseconds(100);
constexpr int kMaxEvents = 1024;
// Clients heartbeat every 30 s, as TeamTalk's do; servers close a client
// connection silent for 120 s, and an uploader waiting for a durable DONE
// under heavy load sends nothing for that long.
constexpr auto kClientHeartbeat = std::chrono::seconds(30);

uint64_t token(uint32_t index, uint32_t gen) { return uint64_t{gen} << 32 | index; }

uint64_t micros(Clock::duration d) {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
}

// Distinct users per transfer, so no two tasks share a peer.
uint32_t from_user(uint64_t index) { return static_cast<uint32_t>(1'000'000 + 2 * index); }

Clock::duration seconds(double s) {
  return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

ClientThread::ClientThread(Phase& phase, uint32_t slots, ThreadStats& stats)
    : phase_(phase), options_(*phase.options), stats_(stats), slots_(slots) {
  if (options_.connect_rate > 0) {
    rate_ = options_.connect_rate * slots / std::max<uint32_t>(options_.concurrency, 1);
  }
  idle_.reserve(slots);
  for (uint32_t i = slots; i-- > 0;) idle_.push_back(i);
}

ClientThread::~ClientThread() {
  for (auto& e : entries_) e->conn.reset(true);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
}

bool ClientThread::prepare(std::string& error) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    error = std::string("epoll_create1: ") + std::strerror(errno);
    return false;
  }
  if (phase_.mode == Mode::kDownload) return true;  // its tasks exist already
  if (!creator_.connect(phase_.server_ip_be, options_.msg_port, error)) return false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = kCreatorToken;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, creator_.fd(), &ev) != 0) {
    error = std::string("epoll_ctl: ") + std::strerror(errno);
    return false;
  }
  return true;
}

void ClientThread::run() {
  now_ = Clock::now();
  refilled_ = now_;
  next_tick_ = now_ + kTick;
  epoll_event events[kMaxEvents];
  start_idle_slots();
  while (retired_ < slots_.size() || closing_ > 0) {
    // Slots held back by --connect-rate are looked at every millisecond.
    const int n = ::epoll_wait(epoll_fd_, events, kMaxEvents, idle_.empty() ? 50 : 1);
    now_ = Clock::now();
    for (int i = 0; i < n; ++i) {
      const uint64_t t = events[i].data.u64;
      if (t == kCreatorToken) {
        on_creator_ready();
        continue;
      }
      const auto index = static_cast<uint32_t>(t);
      if (index >= entries_.size()) continue;
      const Entry& e = *entries_[index];
      // A stale event: the entry was released (and maybe reused) earlier in this batch.
      if (!e.in_use || e.gen != static_cast<uint32_t>(t >> 32)) continue;
      on_entry_event(index, events[i].events);
    }
    if (now_ >= next_tick_) {
      on_tick();
      next_tick_ = now_ + kTick;
    }
    start_idle_slots();
  }
}

void ClientThread::start_idle_slots() {
  if (rate_ > 0 && !idle_.empty()) {
    // At most 10 ms worth of starts at once, so the rate holds at any scale.
    const auto now = Clock::now();
    tokens_ = std::min(tokens_ + rate_ * std::chrono::duration<double>(now - refilled_).count(),
                       std::max(1.0, rate_ / 100));
    refilled_ = now;
  }
  // Iterative, not recursive: a slot whose start fails at once goes back on
  // the list after consuming its index, so this ends when indices run out.
  while (!idle_.empty()) {
    const bool more =
        !stopping_ && phase_.next_index.load(std::memory_order_relaxed) < phase_.transfers;
    if (rate_ > 0 && more) {
      if (tokens_ < 1) break;
      tokens_ -= 1;
    }
    const uint32_t slot = idle_.back();
    idle_.pop_back();
    start_next(slot);
  }
  if (creator_.connected() && creator_.pending() > 0) on_creator_ready();
}

void ClientThread::start_next(uint32_t slot) {
  Slot& s = slots_[slot];
  const uint64_t index = stopping_ ? phase_.transfers : phase_.next_index.fetch_add(1);
  if (index >= phase_.transfers) {
    s.state = SlotState::kRetired;
    ++retired_;
    return;
  }
  ++s.gen;
  s.index = index;
  s.stage = 0;
  s.task.from = from_user(index);
  s.task.to = s.task.from + 1;
  s.task.size = static_cast<uint32_t>(options_.file_size);
  s.task.salt = phase_.pattern->salt_for(index);
  if (phase_.mode == Mode::kDownload) {
    s.task.id = (*phase_.task_ids)[index];
    begin_transfer(slot);
    return;
  }
  s.state = SlotState::kCreating;
  s.asked = Clock::now();
  const uint64_t cookie = uint64_t{s.gen} << 32 | slot;
  const std::string name = "ttfs-load-" + std::to_string(index) + ".bin";
  const uint32_t mode = phase_.mode == Mode::kOnline ? kTransOnline : kTransOffline;
  if (!creator_.request(cookie, s.task.from, s.task.to, name, s.task.size, mode)) {
    fail_slot(slot, Failure::kCreate);
  }
}

void ClientThread::on_creator_ready() {
  std::vector<TaskCreator::Reply> replies;
  const bool alive = creator_.on_ready(replies);
  // Timings read the clock afresh: a batch of events can take milliseconds.
  now_ = Clock::now();
  for (TaskCreator::Reply& r : replies) {
    const auto slot = static_cast<uint32_t>(r.cookie);
    Slot& s = slots_[slot];
    if (s.gen != static_cast<uint32_t>(r.cookie >> 32) || s.state != SlotState::kCreating) continue;
    stats_.create_us.push_back(micros(now_ - s.asked));
    if (!r.ok) {
      fail_slot(slot, Failure::kCreate);
      continue;
    }
    s.task.id = std::move(r.task_id);
    begin_transfer(slot);
  }
  if (!alive) {
    for (const uint64_t cookie : creator_.take_pending()) {
      const auto slot = static_cast<uint32_t>(cookie);
      if (slots_[slot].gen == static_cast<uint32_t>(cookie >> 32))
        fail_slot(slot, Failure::kCreate);
    }
  }
}

void ClientThread::begin_transfer(uint32_t slot) {
  Slot& s = slots_[slot];
  s.state = SlotState::kRunning;
  s.started = s.progress = Clock::now();
  const Pattern& pattern = *phase_.pattern;
  bool opened = false;
  switch (phase_.mode) {
    case Mode::kUpload:
    case Mode::kRoundtrip:
      s.live = 1;
      opened =
          open_entry(slot, 0, std::make_unique<Sender>(s.task, pattern, stats_.counters, false));
      break;
    case Mode::kDownload:
      s.live = 1;
      opened = open_entry(
          slot, 0,
          std::make_unique<Receiver>(s.task, pattern, stats_.counters, options_.window, false));
      break;
    case Mode::kOnline:
      s.live = 2;
      opened =
          open_entry(slot, 0, std::make_unique<Sender>(s.task, pattern, stats_.counters, true)) &&
          open_entry(
              slot, 1,
              std::make_unique<Receiver>(s.task, pattern, stats_.counters, options_.window, true));
      break;
    case Mode::kScale:  // not a phase: a scale run's phases are round trips and relays
      break;
  }
  if (!opened) fail_slot(slot, Failure::kConnect);
}

bool ClientThread::open_entry(uint32_t slot, int which, std::unique_ptr<Peer> peer) {
  uint32_t index;
  if (!free_entries_.empty()) {
    index = free_entries_.back();
    free_entries_.pop_back();
  } else {
    index = static_cast<uint32_t>(entries_.size());
    entries_.push_back(std::make_unique<Entry>());
  }
  Entry& e = *entries_[index];
  e.in_use = true;
  e.eof = false;
  e.heartbeat = now_;
  e.slot = slot;
  e.peer = std::move(peer);
  slots_[slot].entries[which] = index;
  if (!e.conn.open(phase_.server_ip_be, options_.client_port)) return false;
  const uint64_t open = phase_.open_connections.fetch_add(1, std::memory_order_relaxed) + 1;
  uint64_t peak = phase_.peak_connections.load(std::memory_order_relaxed);
  while (open > peak && !phase_.peak_connections.compare_exchange_weak(peak, open)) {
  }
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = token(index, e.gen);
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, e.conn.fd(), &ev) != 0) return false;
  // Queued now, written when the connect completes (the first EPOLLOUT).
  e.peer->start(e.conn);
  return true;
}

void ClientThread::on_entry_event(uint32_t index, uint32_t events) {
  Entry& e = *entries_[index];
  if (e.slot == kNone) {
    on_closing_event(e, index);
    return;
  }
  const uint32_t slot = e.slot;
  if (e.conn.connecting()) {
    if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) == 0) return;
    if (!e.conn.finish_connect()) {
      fail_slot(slot, Failure::kConnect);
      return;
    }
  }
  Status status = Status::kRunning;
  Failure failure = Failure::kNone;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
    Peer& peer = *e.peer;
    const Conn::Io io =
        e.conn.read_frames([&](const net::PduHeader& header, std::span<const uint8_t> body) {
          status = peer.on_frame(e.conn, header, body);
          return status == Status::kRunning;
        });
    slots_[slot].progress = now_;
    if (status == Status::kFailed) failure = peer.failure();
    if (status == Status::kRunning) {
      switch (io) {
        case Conn::Io::kEof:
        case Conn::Io::kError:
          // A reset after the last PDU ends a connection as a close does.
          e.eof = true;
          status = peer.on_eof();
          if (status == Status::kFailed) {
            failure = io == Conn::Io::kEof ? peer.failure() : Failure::kSocket;
          }
          break;
        case Conn::Io::kBadFrame:
          status = Status::kFailed;
          failure = Failure::kProtocol;
          break;
        case Conn::Io::kOk:
        case Conn::Io::kStopped: break;
      }
    }
  }
  if (status != Status::kFailed && e.conn.has_output() && !e.eof &&
      e.conn.flush() == Conn::Io::kError) {
    status = Status::kFailed;
    failure = Failure::kSocket;
  }
  if (status == Status::kFailed) {
    fail_slot(slot, failure);
  } else if (status == Status::kDone) {
    peer_done(index);
  }
}

void ClientThread::on_closing_event(Entry& e, uint32_t index) {
  if (e.conn.drain() != Conn::Io::kOk) release_entry(index, false);
}

void ClientThread::peer_done(uint32_t index) {
  Entry& e = *entries_[index];
  const uint32_t slot = e.slot;
  Slot& s = slots_[slot];
  for (uint32_t& which : s.entries) {
    if (which == index) which = kNone;
  }
  // Reading stopped at the final PDU: with edge-triggered events, a close
  // that is already queued behind it would never be reported again.
  if (e.eof || e.conn.drain() != Conn::Io::kOk) {
    release_entry(index, false);
  } else {
    e.slot = kNone;
    e.peer.reset();
    e.close_by = now_ + seconds(options_.close_wait_s);
    ++closing_;
  }
  if (--s.live > 0) return;
  if (phase_.mode == Mode::kRoundtrip && s.stage == 0) {
    s.stage = 1;
    s.live = 1;
    if (!open_entry(slot, 0,
                    std::make_unique<Receiver>(s.task, *phase_.pattern, stats_.counters,
                                               options_.window, false))) {
      fail_slot(slot, Failure::kConnect);
    }
    return;
  }
  finish_slot(slot);
}

void ClientThread::finish_slot(uint32_t slot) {
  Slot& s = slots_[slot];
  const auto now = Clock::now();
  ++stats_.ok;
  stats_.transfer_us.push_back(micros(now - s.started));
  stats_.last_finish = now;
  if (phase_.task_ids != nullptr && phase_.mode == Mode::kUpload) {
    (*phase_.task_ids)[s.index] = s.task.id;
  }
  s.state = SlotState::kIdle;
  idle_.push_back(slot);
}

void ClientThread::fail_slot(uint32_t slot, Failure failure) {
  // Still the errno of the call that failed: nothing in between makes a system call.
  const int error = failure == Failure::kConnect || failure == Failure::kSocket ? errno : 0;
  Slot& s = slots_[slot];
  for (uint32_t& index : s.entries) {
    if (index != kNone) release_entry(index, true);
    index = kNone;
  }
  stats_.record_failure(failure, error);
  stats_.last_finish = now_;
  s.state = SlotState::kIdle;
  idle_.push_back(slot);
}

void ClientThread::release_entry(uint32_t index, bool abortive) {
  Entry& e = *entries_[index];
  if (e.slot == kNone && e.in_use) --closing_;
  if (e.conn.fd() >= 0) phase_.open_connections.fetch_sub(1, std::memory_order_relaxed);
  e.conn.reset(abortive);
  e.peer.reset();
  e.in_use = false;
  e.slot = kNone;
  ++e.gen;
  free_entries_.push_back(index);
}

void ClientThread::on_tick() {
  const auto stall = seconds(options_.stall_timeout_s);
  const bool past_deadline = now_ >= phase_.deadline;
  if (past_deadline) stopping_ = true;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const Slot& s = slots_[i];
    if (s.state == SlotState::kCreating || s.state == SlotState::kRunning) {
      if (past_deadline) {
        fail_slot(i, Failure::kStopped);
      } else if (now_ - (s.state == SlotState::kCreating ? s.asked : s.progress) > stall) {
        fail_slot(i, Failure::kStall);
      }
    }
  }
  for (uint32_t i = 0; i < entries_.size(); ++i) {
    Entry& e = *entries_[i];
    if (!e.in_use) continue;
    if (e.slot == kNone) {
      if (now_ >= e.close_by || past_deadline) release_entry(i, true);
    } else if (!e.conn.connecting() && now_ - e.heartbeat >= kClientHeartbeat) {
      e.heartbeat = now_;
      Conn::OutItem& item = e.conn.push();
      item.head_len = static_cast<uint32_t>(wire::heartbeat(item.head, 0));
      if (e.conn.flush() == Conn::Io::kError) fail_slot(e.slot, Failure::kSocket);
    }
  }
  creator_.heartbeat_if_idle(now_);
  if (!creator_.connected() && creator_.pending() > 0) on_creator_ready();
}

}  // namespace ttfs::load
