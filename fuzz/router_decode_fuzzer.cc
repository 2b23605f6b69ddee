// The router's decoding of every command it takes from a socket, on a whole
// PDU as the framer cuts it (its header names the command). What is decoded
// must be what protobuf reads from the same body, the task id must be the
// canonical spelling of the connection's task, and a payload or relayed PDU
// must lie within, and be, the bytes that arrived.

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <variant>

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "fuzz_check.h"
#include "fuzz_task.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "quiet_protobuf.h"
#include "transfer/decode.h"

namespace {

using namespace ttfs;
using namespace ttfs::transfer;

const ConnHandle kConn{0, 7, 1};

template <typename Message>
bool protobuf_parse(Message& message, std::span<const uint8_t> pdu) {
  return message.ParseFromArray(pdu.data() + net::kPduHeaderSize,
                                static_cast<int>(pdu.size() - net::kPduHeaderSize));
}

bool same_bytes(const Bytes& block, std::span<const uint8_t> pdu) {
  return block.size() == pdu.size() && std::equal(pdu.begin(), pdu.end(), block.data());
}

void check_transfer_req(const net::PduHeader& header, std::span<const uint8_t> pdu) {
  IM::Server::IMFileTransferReq req;
  const bool parses = protobuf_parse(req, pdu);
  const auto create = decode_transfer_req(kConn, header, Bytes::copy_of(pdu));
  FUZZ_CHECK(create.has_value() == parses);
  if (!create) return;
  FUZZ_CHECK(create->conn == kConn && create->seq == header.seq_num);
  FUZZ_CHECK(create->info.from_user_id == req.from_user_id());
  FUZZ_CHECK(create->info.to_user_id == req.to_user_id());
  FUZZ_CHECK(create->info.file_name == req.file_name());
  FUZZ_CHECK(create->info.file_size == req.file_size());
  FUZZ_CHECK(create->info.mode == req.trans_mode());
  FUZZ_CHECK(create->attach_data == req.attach_data());
}

void check_login(const net::PduHeader& header, std::span<const uint8_t> pdu) {
  IM::File::IMFileLoginReq req;
  const bool parses = protobuf_parse(req, pdu);
  const DecodedLogin decoded = decode_login(kConn, header, Bytes::copy_of(pdu));
  FUZZ_CHECK((decoded.malformed == nullptr) == parses);
  if (!parses) return;
  FUZZ_CHECK(decoded.task_id == req.task_id());
  if (!decoded.login) return;
  // Only the canonical spelling gets through, so no other can reach a path.
  FUZZ_CHECK(decoded.login->task.str() == req.task_id());
  FUZZ_CHECK(decoded.login->conn == kConn && decoded.login->seq == header.seq_num);
  FUZZ_CHECK(decoded.login->user_id == req.user_id());
  FUZZ_CHECK(decoded.login->role == req.file_role());
}

void check_command(const net::PduHeader& header, std::span<const uint8_t> pdu) {
  const TaskId task = fuzz::fuzz_task_id();
  // As the IO thread hands it over: copied out of the input, a segment's
  // payload moved onto a page boundary.
  DecodedCommand decoded = decode_task_command(kConn, header, net::copy_pdu(pdu, header), task);
  FUZZ_CHECK(decoded.event.has_value() == (decoded.refusal == nullptr));
  if (!decoded.event) return;
  if (auto* rsp = std::get_if<PullResponse>(&*decoded.event)) {
    FUZZ_CHECK(header.command_id == net::kCidFilePullDataRsp);
    IM::File::IMFilePullDataRsp body;
    FUZZ_CHECK(protobuf_parse(body, pdu));
    FUZZ_CHECK(body.task_id() == fuzz::kTaskIdText);
    FUZZ_CHECK(rsp->task == task && rsp->conn == kConn && rsp->seq == header.seq_num);
    FUZZ_CHECK(rsp->result_code == body.result_code() && rsp->user_id == body.user_id());
    FUZZ_CHECK(rsp->offset == body.offset());
    FUZZ_CHECK(same_bytes(rsp->data.block, pdu));
    FUZZ_CHECK(rsp->data.offset >= net::kPduHeaderSize);
    FUZZ_CHECK(rsp->data.offset <= pdu.size() && rsp->data.length <= pdu.size() - rsp->data.offset);
    FUZZ_CHECK(rsp->data.size() == body.file_data().size());
    FUZZ_CHECK(std::memcmp(rsp->data.data(), body.file_data().data(), rsp->data.size()) == 0);
  } else if (auto* req = std::get_if<PullRequest>(&*decoded.event)) {
    FUZZ_CHECK(header.command_id == net::kCidFilePullDataReq);
    IM::File::IMFilePullDataReq body;
    FUZZ_CHECK(protobuf_parse(body, pdu));
    FUZZ_CHECK(body.task_id() == fuzz::kTaskIdText);
    FUZZ_CHECK(req->task == task && req->conn == kConn && req->seq == header.seq_num);
    FUZZ_CHECK(req->user_id == body.user_id() && req->mode == body.trans_mode());
    FUZZ_CHECK(req->offset == body.offset() && req->size == body.data_size());
    FUZZ_CHECK(same_bytes(req->pdu, pdu));
  } else if (auto* state = std::get_if<StateReport>(&*decoded.event)) {
    FUZZ_CHECK(header.command_id == net::kCidFileState);
    IM::File::IMFileState body;
    FUZZ_CHECK(protobuf_parse(body, pdu));
    FUZZ_CHECK(body.task_id() == fuzz::kTaskIdText);
    FUZZ_CHECK(state->task == task && state->conn == kConn && state->seq == header.seq_num);
    FUZZ_CHECK(state->user_id == body.user_id() && state->state == body.state());
    FUZZ_CHECK(same_bytes(state->pdu, pdu));
  } else {
    FUZZ_CHECK(false);  // no other event comes from a client's command
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // A whole PDU as the framer cuts it: a header, and as long as it says.
  if (size < net::kPduHeaderSize) return 0;
  net::PduHeader header = net::read_header(data);
  header.length = static_cast<uint32_t>(size);
  const std::span<const uint8_t> pdu(data, size);
  switch (header.command_id) {
    case net::kCidFileTransferReq: check_transfer_req(header, pdu); break;
    case net::kCidFileLoginReq: check_login(header, pdu); break;
    default: check_command(header, pdu); break;
  }
  return 0;
}
