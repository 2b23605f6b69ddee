#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "net/connection_limiter.h"
#include "net/io_thread.h"
#include "server/config.h"
#include "storage/local_disk_store.h"
#include "transfer/router.h"
#include "transfer/task_quota.h"
#include "transfer/worker.h"

namespace ttfs::server {

struct ServerStats {
  uint64_t connections_open = 0;
  uint64_t connections_accepted = 0;
  uint64_t protocol_errors = 0;
  // Connections closed by a bound or a deadline, by reason.
  uint64_t refused_over_max_connections = 0;
  uint64_t refused_over_per_ip = 0;
  uint64_t idle_timeouts = 0;
  uint64_t login_timeouts = 0;
  uint64_t frame_timeouts = 0;
  uint64_t tasks_created = 0;
  uint64_t tasks_live = 0;
  uint64_t transfers_in_flight = 0;
  uint64_t refusals = 0;
  // FILE_TRANSFER_REQs refused, by reason (also in refusals).
  uint64_t tasks_refused_over_max_tasks = 0;
  uint64_t tasks_refused_over_per_user = 0;
  uint64_t tasks_refused_file_size = 0;
  uint64_t segments_stored = 0;
  uint64_t segments_served = 0;
  uint64_t segments_relayed = 0;
  uint64_t uploads_completed = 0;
};

// The whole daemon, wired as ARCHITECTURE.md draws it: IO threads with
// SO_REUSEPORT listeners on both ports, transfer workers sharded by task id,
// one disk-writer thread behind the offline store.
class Server {
 public:
  explicit Server(Config config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Recovers the store, binds both ports and starts every thread. Throws
  // std::exception with a message naming what failed.
  void start();
  // The first step of a graceful stop: the listening sockets on both ports
  // are closed, so new connections are refused, and new tasks are refused on
  // the msg-server connections already open. Every connection already open
  // is served on, logins included, until stop().
  void stop_accepting();
  // Transfers that a connected peer is moving data through, over all
  // workers: what a graceful stop waits for (see Task::transferring()).
  uint64_t transfers_in_flight() const;
  // Stops in order: no more input (IO threads), the work in flight
  // (workers), then the disk writer, which flushes everything queued and
  // checkpoints unfinished uploads. Cuts whatever is still transferring;
  // see graceful_stop.h for the wait before it.
  void stop();

  uint16_t client_port() const { return client_port_; }
  uint16_t msg_server_port() const { return msg_server_port_; }
  ServerStats stats() const;

 private:
  void open_listeners();

  Config config_;
  uint16_t client_port_ = 0;
  uint16_t msg_server_port_ = 0;
  std::unique_ptr<net::ConnectionLimiter> connection_limiter_;
  std::unique_ptr<transfer::TaskQuota> task_quota_;
  std::unique_ptr<storage::LocalDiskStore> store_;
  std::vector<std::unique_ptr<transfer::Worker>> workers_;
  std::unique_ptr<transfer::Router> router_;
  std::vector<std::unique_ptr<net::IoThread>> io_threads_;
  bool running_ = false;
};

}  // namespace ttfs::server
