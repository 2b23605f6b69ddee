#include "transfer/router.h"

#include <spdlog/spdlog.h>

#include <ctime>

#include "IM.File.pb.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace ttfs::transfer {

namespace {

template <typename Message>
bool parse_body(Message& message, const Bytes& pdu) {
  return message.ParseFromArray(pdu.data() + net::kPduHeaderSize,
                                static_cast<int>(pdu.size() - net::kPduHeaderSize));
}

}  // namespace

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
      IM::Server::IMFileTransferReq req;
      if (!parse_body(req, pdu)) return protocol_error(io, conn, "malformed FILE_TRANSFER_REQ");
      CreateTask create;
      create.conn = conn;
      create.seq = header.seq_num;
      // The id is made here, before routing, so the task is created on the
      // shard that will own it.
      create.info.id = TaskId::generate();
      create.info.id_text = create.info.id.str();
      create.info.from_user_id = req.from_user_id();
      create.info.to_user_id = req.to_user_id();
      create.info.file_name = req.file_name();
      create.info.file_size = req.file_size();
      create.info.mode = req.trans_mode();
      create.info.created_at_unix = static_cast<int64_t>(std::time(nullptr));
      create.attach_data = req.attach_data();
      const TaskId id = create.info.id;
      route(local, id, std::move(create));
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
    IM::File::IMFileLoginReq req;
    if (!parse_body(req, pdu)) return protocol_error(io, conn, "malformed LOGIN_REQ");
    const auto task = TaskId::parse(req.task_id());
    const char* refusal = !task ? "LOGIN_REQ with a task id that is not a canonical UUID"
                          : bound != local.logged_in.end() ? "a second LOGIN_REQ on one connection"
                                                           : nullptr;
    if (refusal != nullptr) {
      IM::File::IMFileLoginRsp rsp;
      rsp.set_result_code(1);
      rsp.set_task_id(req.task_id());
      io.send(conn, net::encode_pdu(net::kSidFile, net::kCidFileLoginRsp, header.seq_num, rsp));
      return protocol_error(io, conn, refusal);
    }
    local.logged_in.emplace(conn, *task);
    io.mark_logged_in(conn);  // whether the task takes it is the worker's to say
    route(local, *task, Login{conn, header.seq_num, *task, req.user_id(), req.file_role()});
    return;
  }

  if (bound == local.logged_in.end()) {
    if (header.command_id == net::kCidFileState || header.command_id == net::kCidFilePullDataReq ||
        header.command_id == net::kCidFilePullDataRsp) {
      return protocol_error(io, conn, "a file command before LOGIN_REQ");
    }
    return protocol_error(io, conn, "unknown command on the client port");
  }
  const TaskId& task = bound->second;

  switch (header.command_id) {
    case net::kCidFilePullDataRsp: {
      const auto view = net::parse_pull_data_rsp(
          {pdu.data() + net::kPduHeaderSize, pdu.size() - net::kPduHeaderSize});
      if (!view) return protocol_error(io, conn, "malformed PULL_DATA_RSP");
      if (TaskId::parse(view->task_id) != task) {
        return protocol_error(io, conn, "PULL_DATA_RSP for another task");
      }
      PullResponse rsp;
      rsp.conn = conn;
      rsp.seq = header.seq_num;
      rsp.task = task;
      rsp.result_code = view->result_code;
      rsp.user_id = view->user_id;
      rsp.offset = view->offset;
      rsp.data.offset = static_cast<size_t>(view->file_data.data() - pdu.data());
      rsp.data.length = view->file_data.size();
      rsp.data.block = std::move(pdu);
      route(local, task, std::move(rsp));
      return;
    }
    case net::kCidFilePullDataReq: {
      IM::File::IMFilePullDataReq req;
      if (!parse_body(req, pdu)) return protocol_error(io, conn, "malformed PULL_DATA_REQ");
      if (TaskId::parse(req.task_id()) != task) {
        return protocol_error(io, conn, "PULL_DATA_REQ for another task");
      }
      route(local, task,
            PullRequest{conn, header.seq_num, task, req.user_id(), req.trans_mode(), req.offset(),
                        req.data_size(), std::move(pdu)});
      io.count_request(conn);  // answered by exactly one PULL_DATA_RSP, or a close
      return;
    }
    case net::kCidFileState: {
      IM::File::IMFileState state;
      if (!parse_body(state, pdu)) return protocol_error(io, conn, "malformed FILE_STATE");
      if (TaskId::parse(state.task_id()) != task) {
        return protocol_error(io, conn, "FILE_STATE for another task");
      }
      route(
          local, task,
          StateReport{conn, header.seq_num, task, state.user_id(), state.state(), std::move(pdu)});
      return;
    }
    default: return protocol_error(io, conn, "unknown command on the client port");
  }
}

void Router::on_closed(net::IoThread& io, ConnHandle conn, net::PortKind port) {
  if (port != net::PortKind::kClient) return;
  PerThread& local = threads_[io.index()];
  auto it = local.logged_in.find(conn);
  if (it == local.logged_in.end()) return;
  route(local, it->second, ConnClosed{conn, it->second});
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
