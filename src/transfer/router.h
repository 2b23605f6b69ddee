#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "IM.Server.pb.h"
#include "net/io_thread.h"
#include "transfer/events.h"
#include "transfer/worker.h"

namespace ttfs::transfer {

struct RouterStats {
  std::atomic<uint64_t> protocol_errors{0};
};

// The IO threads' side of the hand-off: decodes each PDU, answers what
// needs no task (heartbeat, the address list), checks form (a canonical task
// id, login before anything else, one task per connection), and queues an
// event for the worker that owns the task: shard = hash(task_id) % workers.
class Router final : public net::FrameHandler {
 public:
  struct Address {
    std::string ip;
    uint16_t port;
  };

  Router(size_t io_threads, std::vector<Worker*> workers);

  // What IP_REQ is answered with: the client-port addresses to advertise.
  void set_advertised_addresses(std::vector<Address> addresses);
  const RouterStats& stats() const { return stats_; }

  void on_frame(net::IoThread& io, ConnHandle conn, net::PortKind port,
                const net::PduHeader& header, Bytes pdu) override;
  void on_closed(net::IoThread& io, ConnHandle conn, net::PortKind port) override;
  void on_iteration_end(net::IoThread& io) override;

 private:
  // Owned by one IO thread: the connections it has seen log in, and the
  // events it has batched for each worker since its loop last flushed.
  struct Bound {
    TaskId task;
    bool uploads = false;  // logged in as an offline upload's sender
  };
  struct PerThread {
    std::unordered_map<ConnHandle, Bound> logged_in;
    std::vector<std::vector<WorkerEvent>> pending;
    std::vector<std::unique_ptr<moodycamel::ProducerToken>> tokens;
  };

  void on_msg_server_frame(net::IoThread& io, PerThread& local, ConnHandle conn,
                           const net::PduHeader& header, Bytes pdu);
  void on_client_frame(net::IoThread& io, PerThread& local, ConnHandle conn,
                       const net::PduHeader& header, Bytes pdu);
  void route(PerThread& local, const TaskId& task, WorkerEvent event);
  void protocol_error(net::IoThread& io, ConnHandle conn, const char* what);

  std::vector<Worker*> workers_;
  std::vector<PerThread> threads_;
  IM::Server::IMFileServerIPRsp ip_rsp_;
  RouterStats stats_;
};

}  // namespace ttfs::transfer
