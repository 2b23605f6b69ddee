#include "ttfs/segment_fetch.h"

#include <algorithm>
#include <map>
#include <string>

#include "IM.File.pb.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace ttfs::tool {

using client::ErrorCode;
using client::Status;

namespace {

struct Pending {
  uint64_t offset;
  uint32_t size;
};

}  // namespace

client::TransferResult fetch_segments(client::FileSession& session,
                                      const std::vector<uint64_t>& offsets,
                                      const client::WriteAt& sink,
                                      const std::function<void(uint64_t, uint32_t)>& on_segment,
                                      const FetchOptions& options) {
  client::TransferResult result;
  const client::TaskInfo& task = session.task();
  // seq_num is 16 bits and must tell the requests in flight apart.
  const size_t window = std::clamp<uint32_t>(options.window, 1, 1u << 15);
  std::map<uint16_t, Pending> in_flight;
  size_t next = 0;

  auto request = [&]() -> Status {
    const uint64_t offset = offsets[next++];
    const auto size =
        static_cast<uint32_t>(std::min<uint64_t>(client::kSegmentSize, task.file_size - offset));
    IM::File::IMFilePullDataReq req;
    req.set_task_id(task.task_id);
    req.set_user_id(task.user_id);
    req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
    req.set_offset(static_cast<uint32_t>(offset));
    req.set_data_size(size);
    uint16_t seq = session.next_seq();
    while (in_flight.contains(seq)) seq = session.next_seq();
    in_flight[seq] = {offset, size};
    return session.send_message(net::kCidFilePullDataReq, seq, req);
  };

  auto accept = [&](const client::Pdu& pdu) -> Status {
    const auto rsp = net::parse_pull_data_rsp(pdu.body());
    if (!rsp) return Status::error(ErrorCode::kProtocol, "a PULL_DATA_RSP does not parse");
    const std::string where = "the reply for offset " + std::to_string(rsp->offset);
    if (rsp->result_code != 0) {
      return Status::error(ErrorCode::kRefused, "the server refused " + where + " (result_code " +
                                                    std::to_string(rsp->result_code) + ")");
    }
    const auto it = in_flight.find(pdu.header.seq_num);
    if (rsp->task_id != task.task_id || it == in_flight.end() || it->second.offset != rsp->offset ||
        rsp->file_data.size() != it->second.size) {
      return Status::error(ErrorCode::kProtocol, where + " answers no request of ours");
    }
    if (!sink(rsp->offset, rsp->file_data)) {
      return Status::error(ErrorCode::kIo,
                           "writing the download at offset " + std::to_string(rsp->offset));
    }
    on_segment(it->second.offset, it->second.size);
    in_flight.erase(it);
    result.bytes += rsp->file_data.size();
    ++result.segments;
    return {};
  };

  for (;;) {
    while (next < offsets.size() && in_flight.size() < window) {
      result.status = request();
      if (!result.ok()) return result;
    }
    if (in_flight.empty()) return result;

    auto pdu = session.next();
    if (!pdu) {
      result.status = pdu.status();
      return result;
    }
    const net::PduHeader& h = pdu->header;
    if (h.service_id == net::kSidFile && h.command_id == net::kCidFilePullDataRsp) {
      result.status = accept(*pdu);
      if (!result.ok()) return result;
      if (options.cut_after_segments && result.segments >= *options.cut_after_segments) {
        session.close();
        result.status =
            Status::error(ErrorCode::kStopped, "connection cut on purpose after " +
                                                   std::to_string(result.segments) + " segments");
        return result;
      }
      if (options.stop_requested && options.stop_requested()) {
        session.close();
        result.status = Status::error(ErrorCode::kStopped, "interrupted");
        return result;
      }
    } else if (h.service_id == net::kSidFile && h.command_id == net::kCidFileState) {
      auto state = session.parse_state(*pdu);
      if (!state) {
        result.status = state.status();
        return result;
      }
      result.final_state = state->state;
      result.status = Status::error(
          ErrorCode::kPeerEnded, std::string("the server sent FILE_STATE ") +
                                     client::to_string(state->state) + " before the last segment");
      return result;
    } else {
      result.status = Status::error(ErrorCode::kProtocol,
                                    "unexpected message while downloading: " + client::describe(h));
      return result;
    }
  }
}

}  // namespace ttfs::tool
