#include "client/msg_server_client.h"

#include "IM.Other.pb.h"
#include "IM.Server.pb.h"

namespace ttfs::client {

namespace {

std::string hex16(uint16_t v) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%04x", v);
  return buf;
}

}  // namespace

Result<MsgServerClient> MsgServerClient::connect(const Endpoint& server, MsgServerOptions options) {
  auto conn = Connection::connect(server.host, server.port, options.connect_timeout,
                                  options.max_pdu_length);
  if (!conn) return conn.status();
  return MsgServerClient(std::move(conn).value(), options);
}

Result<Pdu> MsgServerClient::await_reply(uint16_t cid, uint16_t seq) {
  for (;;) {
    auto pdu = conn_.receive(options_.timeout);
    if (!pdu) return pdu.status();
    const net::PduHeader& h = pdu->header;
    // An unasked heartbeat (seq differs) is the server's own liveness probe.
    if (h.service_id == net::kSidOther && h.command_id == net::kCidHeartbeat &&
        cid != h.command_id) {
      continue;
    }
    if (h.service_id != net::kSidOther || h.command_id != cid) {
      return Status::error(ErrorCode::kProtocol, "expected command " + hex16(cid) + ", got sid " +
                                                     std::to_string(h.service_id) + " cid " +
                                                     hex16(h.command_id));
    }
    if (h.seq_num != seq) {
      return Status::error(ErrorCode::kProtocol, "reply " + hex16(cid) + " carries seq_num " +
                                                     std::to_string(h.seq_num) + ", request had " +
                                                     std::to_string(seq));
    }
    return pdu;
  }
}

Result<std::vector<ServerAddress>> MsgServerClient::server_addresses() {
  const uint16_t seq = next_seq();
  IM::Server::IMFileServerIPReq req;
  Status s = conn_.send_pdu(net::kSidOther, net::kCidFileServerIpReq, seq, req, options_.timeout);
  if (!s.ok()) return s;
  auto pdu = await_reply(net::kCidFileServerIpRsp, seq);
  if (!pdu) return pdu.status();
  IM::Server::IMFileServerIPRsp rsp;
  const auto body = pdu->body();
  if (!rsp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kProtocol, "IP_RSP body does not parse");
  }
  std::vector<ServerAddress> out;
  for (const auto& a : rsp.ip_addr_list()) out.push_back({a.ip(), a.port()});
  return out;
}

Result<CreateTaskReply> MsgServerClient::create_task(const CreateTaskRequest& request) {
  const uint16_t seq = next_seq();
  IM::Server::IMFileTransferReq req;
  req.set_from_user_id(request.from_user);
  req.set_to_user_id(request.to_user);
  req.set_file_name(request.file_name);
  req.set_file_size(request.file_size);
  req.set_trans_mode(static_cast<IM::BaseDefine::TransferFileType>(request.mode));
  if (request.attach_data) req.set_attach_data(*request.attach_data);
  Status s = conn_.send_pdu(net::kSidOther, net::kCidFileTransferReq, seq, req, options_.timeout);
  if (!s.ok()) return s;
  auto pdu = await_reply(net::kCidFileTransferRsp, seq);
  if (!pdu) return pdu.status();
  IM::Server::IMFileTransferRsp rsp;
  const auto body = pdu->body();
  if (!rsp.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kProtocol, "FILE_TRANSFER_RSP body does not parse");
  }
  CreateTaskReply out;
  out.result_code = rsp.result_code();
  out.from_user = rsp.from_user_id();
  out.to_user = rsp.to_user_id();
  if (rsp.has_file_name()) out.file_name = rsp.file_name();
  if (rsp.has_file_size()) out.file_size = rsp.file_size();
  if (rsp.has_task_id()) out.task_id = rsp.task_id();
  if (rsp.has_trans_mode()) out.mode = static_cast<TransferMode>(rsp.trans_mode());
  if (rsp.has_attach_data()) out.attach_data = rsp.attach_data();
  return out;
}

Status MsgServerClient::heartbeat() {
  const uint16_t seq = next_seq();
  Bytes pdu = net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, seq);
  Status s = conn_.send(pdu.span(), options_.timeout);
  if (!s.ok()) return s;
  auto echo = await_reply(net::kCidHeartbeat, seq);
  return echo ? Status{} : echo.status();
}

}  // namespace ttfs::client
