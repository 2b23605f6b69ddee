#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ttfs::load {

// One persistent msg-server connection, as TeamTalk's msg_server keeps: it
// creates tasks with FILE_TRANSFER_REQ and matches each FILE_TRANSFER_RSP to
// its request by seq_num, so any number of requests are in flight at once.
// Non-blocking; the owning thread's event loop drives it.
class TaskCreator {
 public:
  using Clock = std::chrono::steady_clock;

  TaskCreator() = default;
  ~TaskCreator();
  TaskCreator(const TaskCreator&) = delete;
  TaskCreator& operator=(const TaskCreator&) = delete;

  // A blocking connect (once per thread, before the load starts); false with
  // `error` set when the port cannot be reached.
  bool connect(uint32_t ip_be, uint16_t port, std::string& error);
  int fd() const { return fd_; }
  bool connected() const { return fd_ >= 0; }

  // Queues a request; its reply will name `cookie`. False when the request
  // cannot be sent (the connection is gone).
  bool request(uint64_t cookie, uint32_t from, uint32_t to, std::string_view file_name,
               uint32_t size, uint32_t trans_mode);

  struct Reply {
    uint64_t cookie;
    bool ok;
    std::string task_id;  // empty unless ok
  };
  // Writes what is queued and reads every reply that has arrived. False when
  // the connection failed: the caller fails what is still pending (see
  // take_pending) and the creator stays closed.
  bool on_ready(std::vector<Reply>& replies);
  // Msg-server connections are closed by servers after 30 s of silence.
  void heartbeat_if_idle(Clock::time_point now);
  // The cookies of requests without a reply, forgetting them.
  std::vector<uint64_t> take_pending();
  size_t pending() const { return pending_.size(); }

 private:
  bool flush();
  void close();

  int fd_ = -1;
  uint16_t next_seq_ = 1;
  std::unordered_map<uint16_t, uint64_t> pending_;  // seq_num -> cookie
  std::vector<uint8_t> out_;
  size_t out_sent_ = 0;
  std::vector<uint8_t> in_;
  Clock::time_point last_send_{};
};

}  // namespace ttfs::load
