#include "transfer/router.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "IM.File.pb.h"
#include "net/pdu.h"
#include "transfer/decode.h"

namespace ttfs::transfer {

Router::Router(size_t io_threads, std::vector<Worker*> workers)
    : workers_(std::move(workers)), threads_(io_threads) {
  for (PerThread& local : threads_) {
    local.pending.resize(workers_.size());
    for (Worker* worker : workers_) {
      local.tokens.push_back(std::make_unique<moodycamel::ProducerToken>(worker->queue()));
    }
  }
}

void Router::set_advertised_addresses(std::vector<Address> addresses) {
  ip_rsp_.clear_ip_addr_list();
  for (const Address& a : addresses) {
    auto* addr = ip_rsp_.add_ip_addr_list();
    addr->set_ip(a.ip);
    addr->set_port(a.port);
  }
}

void Router::protocol_error(net::IoThread& io, ConnHandle conn, const char* what) {
  stats_.protocol_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::info("io[{}]: protocol error: {}; closing the connection", io.index(), what);
  io.close(conn, true, what);
}

void Router::route(PerThread& local, const TaskId& task, WorkerEvent event) {
  local.pending[task.hash() % workers_.size()].push_back(std::move(event));
}

void Router::on_frame(net::IoThread& io, ConnHandle conn, net::PortKind port,
                      const net::PduHeader& header, Bytes pdu) {
  if (header.command_id == net::kCidHeartbeat) {
    io.send(conn, std::move(pdu));  // echoed as it came, on both ports
    return;
  }
  PerThread& local = threads_[io.index()];
  if (port == net::PortKind::kMsgServer) {
    on_msg_server_frame(io, local, conn, header, std::move(pdu));
  } else {
    on_client_frame(io, local, conn, header, std::move(pdu));
  }
}

void Router::on_msg_server_frame(net::IoThread& io, PerThread& local, ConnHandle conn,
                                 const net::PduHeader& header, Bytes pdu) {
  switch (header.command_id) {
    case net::kCidFileServerIpReq:
      io.send(conn,
              net::encode_pdu(net::kSidOther, net::kCidFileServerIpRsp, header.seq_num, ip_rsp_));
      return;
    case net::kCidFileTransferReq: {
      auto create = decode_transfer_req(conn, header, pdu);
      if (!create) return protocol_error(io, conn, "malformed FILE_TRANSFER_REQ");
      // The id is made here, before routing, so the task is created on the
      // shard that will own it.
      create->info.id = TaskId::generate();
      create->info.id_text = create->info.id.str();
      create->info.created_at_unix = static_cast<int64_t>(std::time(nullptr));
      const TaskId id = create->info.id;
      route(local, id, std::move(*create));
      // Answered by exactly one FILE_TRANSFER_RSP, which echoes attach_data:
      // counted like a pull, so a peer that sends requests and reads no
      // answers stops being read before it can queue more than its quota.
      io.count_request(conn);
      return;
    }
    default: return protocol_error(io, conn, "unknown command on the msg-server port");
  }
}

void Router::on_client_frame(net::IoThread& io, PerThread& local, ConnHandle conn,
                             const net::PduHeader& header, Bytes pdu) {
  auto bound = local.logged_in.find(conn);

  if (header.command_id == net::kCidFileLoginReq) {
    DecodedLogin decoded = decode_login(conn, header, pdu);
    if (decoded.malformed != nullptr) return protocol_error(io, conn, decoded.malformed);
    const char* refusal = !decoded.login ? "LOGIN_REQ with a task id that is not a canonical UUID"
                          : bound != local.logged_in.end() ? "a second LOGIN_REQ on one connection"
                                                           : nullptr;
    if (refusal != nullptr) {
      IM::File::IMFileLoginRsp rsp;
      rsp.set_result_code(1);
      rsp.set_task_id(decoded.task_id);
      io.send(conn, net::encode_pdu(net::kSidFile, net::kCidFileLoginRsp, header.seq_num, rsp));
      return protocol_error(io, conn, refusal);
    }
    const TaskId task = decoded.login->task;
    local.logged_in.emplace(
        conn, Bound{task, decoded.login->role == IM::BaseDefine::CLIENT_OFFLINE_UPLOAD});
    io.mark_logged_in(conn);  // whether the task takes it is the worker's to say
    route(local, task, std::move(*decoded.login));
    return;
  }

  if (bound == local.logged_in.end()) {
    if (header.command_id == net::kCidFileState || header.command_id == net::kCidFilePullDataReq ||
        header.command_id == net::kCidFilePullDataRsp) {
      return protocol_error(io, conn, "a file command before LOGIN_REQ");
    }
    return protocol_error(io, conn, "unknown command on the client port");
  }
  const TaskId task = bound->second.task;
  DecodedCommand decoded =
      decode_task_command(conn, header, std::move(pdu), task, bound->second.uploads);
  if (!decoded.event) return protocol_error(io, conn, decoded.refusal);
  const bool answered_later = std::holds_alternative<PullRequest>(*decoded.event);
  route(local, task, std::move(*decoded.event));
  // A PULL_DATA_REQ is answered by exactly one PULL_DATA_RSP, or a close.
  if (answered_later) io.count_request(conn);
}

void Router::on_closed(net::IoThread& io, ConnHandle conn, net::PortKind port) {
  if (port != net::PortKind::kClient) return;
  PerThread& local = threads_[io.index()];
  auto it = local.logged_in.find(conn);
  if (it == local.logged_in.end()) return;
  route(local, it->second.task, ConnClosed{conn, it->second.task});
  local.logged_in.erase(it);
}

void Router::on_iteration_end(net::IoThread& io) {
  PerThread& local = threads_[io.index()];
  for (size_t w = 0; w < workers_.size(); ++w) {
    auto& events = local.pending[w];
    if (events.empty()) continue;
    workers_[w]->queue().enqueue_bulk(*local.tokens[w], std::make_move_iterator(events.begin()),
                                      events.size());
    events.clear();
  }
}

}  // namespace ttfs::transfer
