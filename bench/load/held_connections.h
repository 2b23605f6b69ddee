#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace ttfs::load {

// How the held connections are made up.
struct HoldPlan {
  uint32_t count = 0;
  uint32_t msg_port_every = 10;  // one in ten goes to the msg-server port
  uint32_t login_every = 3;      // one in three of the client-port ones logs in
  // Source addresses 127.0.0.2 onwards, one after another: each has its own
  // ephemeral port range, which the transfers running meanwhile also use.
  uint32_t source_addresses = 8;
};

// Connections that are open and quiet, as most of a busy server's are:
// client-port ones connected and nothing more, client-port ones logged in as
// the sender of an online task whose receiver never comes, and msg-server
// ones. Each sends a heartbeat as often as TeamTalk's peers do (msg_server
// every 5 s, clients every 30 s), and its echo is read; a connection the
// server closes is counted as lost.
class HeldConnections {
 public:
  HeldConnections() = default;
  ~HeldConnections();
  HeldConnections(const HeldConnections&) = delete;
  HeldConnections& operator=(const HeldConnections&) = delete;

  // Opens and logs in every connection, blocking until all are open; false
  // with `error` at the first that fails.
  bool open(uint32_t server_ip_be, uint16_t client_port, uint16_t msg_port, const HoldPlan& plan,
            std::string& error);
  // Heartbeats and echoes on a thread of their own until stop().
  void start();
  void stop();

  uint64_t open_count() const { return fds_.size(); }
  uint64_t logged_in() const { return logged_in_; }
  uint64_t on_msg_port() const { return on_msg_port_; }
  uint64_t lost() const { return lost_.load(); }
  uint64_t heartbeats_sent() const { return heartbeats_sent_.load(); }

 private:
  struct Held {
    int fd;
    bool msg_port;
  };
  bool login_senders(uint32_t server_ip_be, uint16_t msg_port, const std::vector<size_t>& which,
                     std::string& error);
  void run();

  std::vector<Held> fds_;
  uint64_t logged_in_ = 0;
  uint64_t on_msg_port_ = 0;
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> heartbeats_sent_{0};
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace ttfs::load
