#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "transfer/events.h"
#include "transfer/task_events.h"

namespace ttfs::fuzz {

// TTFS_FUZZ_TRACE=1 prints each event as it is delivered, to read a crash.
#define FUZZ_TRACE(...)                                                  \
  do {                                                                   \
    static const bool trace = std::getenv("TTFS_FUZZ_TRACE") != nullptr; \
    if (trace) std::fprintf(stderr, __VA_ARGS__);                        \
  } while (0)

using transfer::ConnHandle;
using transfer::Role;

// Events for a task state machine, decoded from the fuzz input, as the
// router and the workers would deliver them: every connection logs in once,
// first; a connection's events may still come after the task closed it (they
// were on their way), but none after the task was told it is gone.
class TaskFuzzInput {
 public:
  struct Peer {
    ConnHandle conn;
    Role role;
    uint32_t user_id;
    bool gone = false;
  };

  TaskFuzzInput(const uint8_t* data, size_t size) : in_(data, size) {}

  FuzzedDataProvider& in() { return in_; }
  bool more() { return in_.remaining_bytes() > 0 && ++events_ <= kMaxEvents; }

  uint32_t user() {
    switch (in_.ConsumeIntegralInRange(0, 3)) {
      case 0: return transfer::testing::kFromUser;
      case 1: return transfer::testing::kToUser;
      case 2: return transfer::testing::kStranger;
      default: return in_.ConsumeIntegral<uint32_t>();
    }
  }
  Role role() { return static_cast<Role>(in_.ConsumeIntegralInRange(1, 4)); }
  uint16_t seq() { return in_.ConsumeBool() ? 0 : in_.ConsumeIntegral<uint16_t>(); }

  // A fresh connection that logs in.
  Peer& add_peer(Role role, uint32_t user_id) {
    const auto slot = static_cast<uint32_t>(peers_.size());
    peers_.push_back({{0, slot, 1}, role, user_id});
    return peers_.back();
  }
  // One of the connections still known to the router, or nullptr.
  Peer* pick_peer() {
    std::vector<Peer*> live;
    for (Peer& p : peers_) {
      if (!p.gone) live.push_back(&p);
    }
    if (live.empty()) return nullptr;
    return live[in_.ConsumeIntegralInRange<size_t>(0, live.size() - 1)];
  }
  Peer* find(ConnHandle conn) {
    for (Peer& p : peers_) {
      if (p.conn == conn) return &p;
    }
    return nullptr;
  }

 private:
  static constexpr int kMaxEvents = 400;

  FuzzedDataProvider in_;
  std::vector<Peer> peers_;
  int events_ = 0;
};

}  // namespace ttfs::fuzz
