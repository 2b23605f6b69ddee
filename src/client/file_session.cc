#include "client/file_session.h"

#include <cstdio>

#include "IM.File.pb.h"

namespace ttfs::client {

using Clock = std::chrono::steady_clock;

std::string describe(const net::PduHeader& h) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "sid %u cid 0x%04x seq %u", h.service_id, h.command_id, h.seq_num);
  return buf;
}

const char* to_string(FileState state) {
  switch (state) {
    case FileState::kPeerReady: return "PEER_READY";
    case FileState::kCancel: return "CANCEL";
    case FileState::kRefuse: return "REFUSE";
    case FileState::kDone: return "DONE";
  }
  return "UNKNOWN";
}

FileSession::FileSession(Endpoint server, TaskInfo task, FileRole role, SessionOptions options)
    : server_(std::move(server)), task_(std::move(task)), role_(role), options_(options) {}

Status FileSession::open() {
  if (logged_in_ && conn_.is_open()) return {};
  auto conn = Connection::connect(server_.host, server_.port, options_.connect_timeout,
                                  options_.max_pdu_length);
  if (!conn) return conn.status();
  conn_ = std::move(conn).value();

  IM::File::IMFileLoginReq req;
  req.set_user_id(task_.user_id);
  req.set_task_id(task_.task_id);
  req.set_file_role(static_cast<IM::BaseDefine::ClientFileRole>(role_));
  const uint16_t seq = next_seq();
  Status s = send_message(net::kCidFileLoginReq, seq, req);
  if (!s.ok()) return s;

  auto pdu = next();
  if (!pdu)
    return Status::error(pdu.status().code(), "waiting for LOGIN_RSP: " + pdu.status().message());
  if (pdu->header.service_id != net::kSidFile || pdu->header.command_id != net::kCidFileLoginRsp) {
    return Status::error(ErrorCode::kProtocol, "expected LOGIN_RSP, got " + describe(pdu->header));
  }
  if (pdu->header.seq_num != seq) {
    return Status::error(ErrorCode::kProtocol, "LOGIN_RSP seq_num " +
                                                   std::to_string(pdu->header.seq_num) +
                                                   " does not echo " + std::to_string(seq));
  }
  IM::File::IMFileLoginRsp rsp;
  const auto body = pdu->body();
  if (!rsp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kProtocol, "LOGIN_RSP body does not parse");
  }
  if (rsp.result_code() != 0) {
    conn_.close();
    return Status::error(ErrorCode::kRefused,
                         "login refused, result_code " + std::to_string(rsp.result_code()));
  }
  if (rsp.task_id() != task_.task_id) {
    return Status::error(ErrorCode::kProtocol, "LOGIN_RSP names task '" + rsp.task_id() + "'");
  }
  logged_in_ = true;
  return {};
}

Result<Pdu> FileSession::next(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const auto now = Clock::now();
    if (now >= last_send_ + options_.heartbeat_interval) {
      Status s = send_heartbeat();
      if (!s.ok()) return s;
    }
    const auto until = std::min(deadline, last_send_ + options_.heartbeat_interval);
    auto wait = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now());
    if (wait.count() < 0) wait = std::chrono::milliseconds(0);
    auto pdu = conn_.receive(wait);
    if (!pdu) {
      if (pdu.status().code() == ErrorCode::kTimeout && Clock::now() < deadline) continue;
      if (pdu.status().code() == ErrorCode::kTimeout) {
        return Status::error(ErrorCode::kTimeout, "nothing from the server for " +
                                                      std::to_string(timeout.count()) + " ms");
      }
      return pdu;
    }
    if (pdu->header.service_id == net::kSidOther && pdu->header.command_id == net::kCidHeartbeat) {
      continue;
    }
    return pdu;
  }
}

Status FileSession::send(std::span<const uint8_t> pdu) {
  last_send_ = Clock::now();
  return conn_.send(pdu, options_.timeout);
}

Status FileSession::send_message(uint16_t command_id, uint16_t seq_num,
                                 const google::protobuf::MessageLite& body) {
  const Bytes pdu = net::encode_pdu(net::kSidFile, command_id, seq_num, body);
  return send(pdu.span());
}

Status FileSession::send_heartbeat() {
  const Bytes pdu = net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, next_seq());
  return send(pdu.span());
}

Status FileSession::send_state(FileState state) {
  IM::File::IMFileState msg;
  msg.set_state(static_cast<IM::BaseDefine::ClientFileState>(state));
  msg.set_task_id(task_.task_id);
  msg.set_user_id(task_.user_id);
  return send_message(net::kCidFileState, next_seq(), msg);
}

bool FileSession::stop_if_due(std::optional<uint64_t> stop_after, std::optional<FileState> state,
                              TransferResult& result) {
  if (!stop_after || result.segments < *stop_after) return false;
  std::string what = "stopped after " + std::to_string(result.segments) + " segments, as asked";
  if (state) {
    Status s = send_state(*state);
    if (!s.ok())
      what += " (sending " + std::string(to_string(*state)) + " failed: " + s.message() + ")";
    close_gracefully();
  } else {
    close();
  }
  result.status = Status::error(ErrorCode::kStopped, what);
  if (state) {
    result.final_state = state;
    result.final_state_sent = true;
  }
  return true;
}

Result<StateEvent> FileSession::parse_state(const Pdu& pdu) const {
  IM::File::IMFileState msg;
  const auto body = pdu.body();
  if (!msg.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kProtocol, "FILE_STATE body does not parse");
  }
  if (msg.task_id() != task_.task_id) {
    return Status::error(ErrorCode::kProtocol, "FILE_STATE names task '" + msg.task_id() + "'");
  }
  return StateEvent{static_cast<FileState>(msg.state()), msg.task_id(), msg.user_id()};
}

Result<StateEvent> FileSession::wait_state(std::chrono::milliseconds timeout) {
  auto pdu = next(timeout);
  if (!pdu) return pdu.status();
  if (pdu->header.service_id != net::kSidFile || pdu->header.command_id != net::kCidFileState) {
    return Status::error(ErrorCode::kProtocol, "expected FILE_STATE, got " + describe(pdu->header));
  }
  return parse_state(*pdu);
}

}  // namespace ttfs::client
