#include "transfer/decode.h"

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "net/pull_data_codec.h"
#include "storage/crc32c.h"

namespace ttfs::transfer {

namespace {

template <typename Message>
bool parse_body(Message& message, const Bytes& pdu) {
  return pdu.size() >= net::kPduHeaderSize &&
         message.ParseFromArray(pdu.data() + net::kPduHeaderSize,
                                static_cast<int>(pdu.size() - net::kPduHeaderSize));
}

DecodedCommand refuse(const char* why) { return {std::nullopt, why}; }

DecodedCommand decode_pull_data_rsp(ConnHandle conn, const net::PduHeader& header, Bytes pdu,
                                    const TaskId& task, bool checksum_payload) {
  const auto view = net::parse_pull_data_rsp(
      {pdu.data() + net::kPduHeaderSize, pdu.size() - net::kPduHeaderSize});
  if (!view) return refuse("malformed PULL_DATA_RSP");
  if (TaskId::parse(view->task_id) != task) return refuse("PULL_DATA_RSP for another task");
  PullResponse rsp;
  rsp.conn = conn;
  rsp.seq = header.seq_num;
  rsp.task = task;
  rsp.result_code = view->result_code;
  rsp.user_id = view->user_id;
  rsp.offset = view->offset;
  // The payload stays where it arrived, in the PDU's own block.
  rsp.data.offset = static_cast<size_t>(view->file_data.data() - pdu.data());
  rsp.data.length = view->file_data.size();
  if (checksum_payload) rsp.data.crc32c = storage::crc32c(view->file_data);
  rsp.data.block = std::move(pdu);
  return {std::move(rsp), nullptr};
}

DecodedCommand decode_pull_data_req(ConnHandle conn, const net::PduHeader& header, Bytes pdu,
                                    const TaskId& task) {
  IM::File::IMFilePullDataReq req;
  if (!parse_body(req, pdu)) return refuse("malformed PULL_DATA_REQ");
  if (TaskId::parse(req.task_id()) != task) return refuse("PULL_DATA_REQ for another task");
  return {PullRequest{conn, header.seq_num, task, req.user_id(), req.trans_mode(), req.offset(),
                      req.data_size(), std::move(pdu)},
          nullptr};
}

DecodedCommand decode_file_state(ConnHandle conn, const net::PduHeader& header, Bytes pdu,
                                 const TaskId& task) {
  IM::File::IMFileState state;
  if (!parse_body(state, pdu)) return refuse("malformed FILE_STATE");
  if (TaskId::parse(state.task_id()) != task) return refuse("FILE_STATE for another task");
  return {StateReport{conn, header.seq_num, task, state.user_id(), state.state(), std::move(pdu)},
          nullptr};
}

}  // namespace

std::optional<CreateTask> decode_transfer_req(ConnHandle conn, const net::PduHeader& header,
                                              const Bytes& pdu) {
  IM::Server::IMFileTransferReq req;
  if (!parse_body(req, pdu)) return std::nullopt;
  CreateTask create;
  create.conn = conn;
  create.seq = header.seq_num;
  create.info.from_user_id = req.from_user_id();
  create.info.to_user_id = req.to_user_id();
  create.info.file_name = req.file_name();
  create.info.file_size = req.file_size();
  create.info.mode = req.trans_mode();
  create.attach_data = req.attach_data();
  return create;
}

DecodedLogin decode_login(ConnHandle conn, const net::PduHeader& header, const Bytes& pdu) {
  IM::File::IMFileLoginReq req;
  DecodedLogin out;
  if (!parse_body(req, pdu)) {
    out.malformed = "malformed LOGIN_REQ";
    return out;
  }
  out.task_id = req.task_id();
  if (const auto task = TaskId::parse(req.task_id())) {
    out.login = Login{conn, header.seq_num, *task, req.user_id(), req.file_role()};
  }
  return out;
}

DecodedCommand decode_task_command(ConnHandle conn, const net::PduHeader& header, Bytes pdu,
                                   const TaskId& task, bool checksum_payload) {
  if (pdu.size() < net::kPduHeaderSize) return refuse("a PDU shorter than its header");
  switch (header.command_id) {
    case net::kCidFilePullDataRsp:
      return decode_pull_data_rsp(conn, header, std::move(pdu), task, checksum_payload);
    case net::kCidFilePullDataReq: return decode_pull_data_req(conn, header, std::move(pdu), task);
    case net::kCidFileState: return decode_file_state(conn, header, std::move(pdu), task);
    default: return refuse("unknown command on the client port");
  }
}

}  // namespace ttfs::transfer
