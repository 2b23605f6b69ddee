#pragma once

#include <sys/epoll.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "conn.h"
#include "options.h"
#include "pattern.h"
#include "peer.h"
#include "stats.h"
#include "task_creator.h"

namespace ttfs::load {

// What every client thread of one phase shares: read-only, except the
// counter that hands out transfer indices.
struct Phase {
  Mode mode = Mode::kUpload;  // the flows run (download's setup runs kUpload)
  const Options* options = nullptr;
  const Pattern* pattern = nullptr;
  uint32_t server_ip_be = 0;
  uint64_t transfers = 0;
  // Upload phases store each finished task's id at its index (for the
  // download that follows); a download phase reads them. Each index is
  // touched by one thread only.
  std::vector<std::string>* task_ids = nullptr;
  Clock::time_point deadline = Clock::time_point::max();
  std::atomic<uint64_t> next_index{0};
  // Client-port connections open at once, across threads (finished ones
  // waiting for the server's close included): proof of the concurrency reached.
  std::atomic<uint64_t> open_connections{0};
  std::atomic<uint64_t> peak_connections{0};
};

// One client thread: an epoll loop over non-blocking sockets, `slots`
// transfers in progress at a time, and its own msg-server connection that
// creates their tasks. A slot takes the next transfer index as soon as its
// transfer ends, until the phase has none left.
class ClientThread {
 public:
  ClientThread(Phase& phase, uint32_t slots, ThreadStats& stats);
  ~ClientThread();
  ClientThread(const ClientThread&) = delete;
  ClientThread& operator=(const ClientThread&) = delete;

  // Connects the msg-server port; false with `error` when it cannot.
  bool prepare(std::string& error);
  // Runs until every transfer this thread took has ended.
  void run();

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  enum class SlotState { kIdle, kCreating, kRunning, kRetired };
  struct Slot {
    SlotState state = SlotState::kIdle;
    uint32_t gen = 0;
    uint64_t index = 0;
    Task task;
    Clock::time_point asked;     // FILE_TRANSFER_REQ sent
    Clock::time_point started;   // first connect
    Clock::time_point progress;  // last PDU received
    uint32_t entries[2] = {kNone, kNone};
    int live = 0;   // peers not yet done
    int stage = 0;  // roundtrip: 0 upload, 1 download
  };
  // A connection and its peer. A finished connection stays (slot == kNone)
  // until the server closes it or --close-wait passes, so that TIME_WAIT is
  // the server's and this machine's ports last through long runs.
  struct Entry {
    Conn conn;
    std::unique_ptr<Peer> peer;
    uint32_t gen = 0;
    uint32_t slot = kNone;
    bool in_use = false;
    bool eof = false;
    Clock::time_point close_by;
    Clock::time_point heartbeat;  // the last one sent, or the connect
  };

  void start_idle_slots();
  void start_next(uint32_t slot);
  void begin_transfer(uint32_t slot);
  bool open_entry(uint32_t slot, int which, std::unique_ptr<Peer> peer);
  void on_creator_ready();
  void on_entry_event(uint32_t index, uint32_t events);
  void on_closing_event(Entry& entry, uint32_t index);
  void peer_done(uint32_t index);
  void fail_slot(uint32_t slot, Failure failure);
  void finish_slot(uint32_t slot);
  void release_entry(uint32_t index, bool abortive);
  void on_tick();

  Phase& phase_;
  const Options& options_;
  ThreadStats& stats_;
  int epoll_fd_ = -1;
  TaskCreator creator_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> idle_;  // slots waiting for start_next
  // --connect-rate: this thread's share, as a token bucket.
  double rate_ = 0;
  double tokens_ = 1;
  Clock::time_point refilled_;
  uint32_t retired_ = 0;
  bool stopping_ = false;
  std::vector<std::unique_ptr<Entry>> entries_;
  std::vector<uint32_t> free_entries_;
  uint32_t closing_ = 0;
  Clock::time_point now_;
  Clock::time_point next_tick_;
};

}  // namespace ttfs::load
