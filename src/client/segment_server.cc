#include "client/segment_server.h"

#include <cstring>

#include "IM.File.pb.h"
#include "net/pull_data_codec.h"

namespace ttfs::client {

void SegmentServer::run(TransferResult& result) {
  for (;;) {
    auto pdu = session_.next();
    if (!pdu) {
      result.status = pdu.status();
      if (pdu.status().code() == ErrorCode::kClosed) {
        result.status = Status::error(ErrorCode::kClosed,
                                      pdu.status().message() + " before a final FILE_STATE");
      }
      return;
    }
    const net::PduHeader& h = pdu->header;
    if (h.service_id == net::kSidFile && h.command_id == net::kCidFilePullDataReq) {
      Status s = answer(*pdu, result);
      if (!s.ok()) {
        result.status = s;
        return;
      }
      if (session_.stop_if_due(options_.stop_after_segments, options_.state_on_stop, result)) {
        return;
      }
    } else if (h.service_id == net::kSidFile && h.command_id == net::kCidFileState) {
      auto state = session_.parse_state(*pdu);
      if (!state) {
        result.status = state.status();
        return;
      }
      if (state->state == FileState::kPeerReady) continue;  // tolerated; the sender need not wait
      result.final_state = state->state;
      if (state->state != FileState::kDone) {
        result.status = Status::error(
            ErrorCode::kPeerEnded, std::string("received FILE_STATE ") + to_string(state->state) +
                                       " from user " + std::to_string(state->user_id));
      }
      return;
    } else {
      result.status =
          Status::error(ErrorCode::kProtocol, "unexpected PDU while serving: " + describe(h));
      return;
    }
  }
}

Status SegmentServer::answer(const Pdu& request, TransferResult& result) {
  IM::File::IMFilePullDataReq req;
  const auto body = request.body();
  if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return Status::error(ErrorCode::kProtocol, "PULL_DATA_REQ body does not parse");
  }
  const TaskInfo& task = session_.task();
  if (req.task_id() != task.task_id) {
    return Status::error(ErrorCode::kProtocol, "PULL_DATA_REQ names task '" + req.task_id() + "'");
  }
  const uint64_t offset = req.offset();
  const uint64_t size = req.data_size();
  if (offset + size > task.file_size || size > options_.max_segment_size) {
    return Status::error(ErrorCode::kProtocol,
                         "PULL_DATA_REQ for [" + std::to_string(offset) + ", +" +
                             std::to_string(size) + ") is outside the " +
                             std::to_string(task.file_size) + "-byte file or over the maximum");
  }
  const uint16_t seq = request.header.seq_num;
  const bool spoil =
      options_.fault != ReplyFault::kNone && result.segments == options_.fault_at_segment;
  Status s;
  if (!spoil) {
    s = send_reply(seq, task.task_id, req.offset(), size, offset);
  } else {
    switch (options_.fault) {
      case ReplyFault::kShort:
        s = send_reply(seq, task.task_id, req.offset(), size == 0 ? 0 : size - 1, offset);
        break;
      case ReplyFault::kOversize:
        s = send_reply(seq, task.task_id, req.offset(), size + 1, offset);
        break;
      case ReplyFault::kWrongOffset:
        s = send_reply(seq, task.task_id, static_cast<uint32_t>(offset + kSegmentSize), size,
                       offset);
        break;
      case ReplyFault::kWrongTask:
        s = send_reply(seq, "00000000-0000-0000-0000-000000000000", req.offset(), size, offset);
        break;
      case ReplyFault::kUnrequested:
        s = send_reply(seq, task.task_id, static_cast<uint32_t>(task.file_size), size, offset);
        if (s.ok()) s = send_reply(seq, task.task_id, req.offset(), size, offset);
        break;
      case ReplyFault::kDuplicate:
        s = send_reply(seq, task.task_id, req.offset(), size, offset);
        if (s.ok()) s = send_reply(seq, task.task_id, req.offset(), size, offset);
        break;
      case ReplyFault::kUnaligned:
        s = send_reply(seq, task.task_id, static_cast<uint32_t>(offset + 100), size, offset);
        break;
      case ReplyFault::kWrongSeq:
        s = send_reply(static_cast<uint16_t>(seq + 1), task.task_id, req.offset(), size, offset);
        break;
      case ReplyFault::kWrongUser:
        s = send_reply(seq, task.task_id, req.offset(), size, offset, session_.task().user_id + 1);
        break;
      case ReplyFault::kErrorResult:
        s = send_reply(seq, task.task_id, req.offset(), size, offset, std::nullopt, 1);
        break;
      case ReplyFault::kNone: break;
    }
  }
  if (!s.ok()) return s;
  result.bytes += size;
  ++result.segments;
  return {};
}

Status SegmentServer::send_reply(uint16_t seq, std::string_view task_id, uint32_t offset,
                                 size_t data_size, uint64_t read_offset,
                                 std::optional<uint32_t> user_id, uint32_t result_code) {
  auto reply = net::build_pull_data_rsp(
      seq, result_code, task_id, user_id.value_or(session_.task().user_id), offset, data_size);
  uint8_t* payload = reply.pdu.data() + reply.data_offset;
  // An oversize fault reads what the file has and pads past its end.
  const uint64_t readable =
      read_offset >= session_.task().file_size
          ? 0
          : std::min<uint64_t>(data_size, session_.task().file_size - read_offset);
  if (readable < data_size) std::memset(payload + readable, 0, data_size - readable);
  if (readable > 0 && !source_(read_offset, std::span(payload, static_cast<size_t>(readable)))) {
    return Status::error(ErrorCode::kIo,
                         "reading the source at offset " + std::to_string(read_offset));
  }
  return session_.send(reply.pdu.span());
}

}  // namespace ttfs::client
