#include "client/segment_puller.h"

#include <algorithm>
#include <random>

#include "IM.File.pb.h"
#include "net/pull_data_codec.h"

namespace ttfs::client {

SegmentPuller::SegmentPuller(FileSession& session, TransferMode mode, const WriteAt& sink,
                             const PullOptions& options)
    : session_(session), mode_(mode), sink_(sink), options_(options) {
  if (options.offsets) {
    order_ = *options.offsets;
  } else {
    const uint64_t size = session.task().file_size;
    const uint64_t step = std::max<uint32_t>(options.segment_size, 1);
    for (uint64_t off = 0; off < size; off += step) order_.push_back(off);
  }
  if (options.shuffle) {
    std::mt19937_64 rng(options.shuffle_seed);
    std::shuffle(order_.begin(), order_.end(), rng);
  }
}

Status SegmentPuller::request_next() {
  const uint64_t offset = order_[next_++];
  const uint64_t step = std::max<uint32_t>(options_.segment_size, 1);
  const auto size = static_cast<uint32_t>(std::min(step, session_.task().file_size - offset));
  IM::File::IMFilePullDataReq req;
  req.set_task_id(session_.task().task_id);
  req.set_user_id(session_.task().user_id);
  req.set_trans_mode(static_cast<IM::BaseDefine::TransferFileType>(mode_));
  req.set_offset(static_cast<uint32_t>(offset));
  req.set_data_size(size);
  uint16_t seq = session_.next_seq();
  while (in_flight_.contains(seq)) seq = session_.next_seq();
  in_flight_[seq] = {offset, size};
  return session_.send_message(net::kCidFilePullDataReq, seq, req);
}

void SegmentPuller::run(TransferResult& result) {
  if (session_.task().file_size > UINT32_MAX) {
    result.status = Status::error(ErrorCode::kInvalidArgument,
                                  "the protocol's offsets are 32-bit; file is too large");
    return;
  }
  // seq_num is 16 bits and must tell the requests in flight apart.
  const size_t window = std::clamp<uint32_t>(options_.window, 1, 1u << 15);
  for (;;) {
    while (next_ < order_.size() && in_flight_.size() < window) {
      Status s = request_next();
      if (!s.ok()) {
        result.status = s;
        return;
      }
    }
    if (in_flight_.empty()) return;  // every segment is in

    auto pdu = session_.next();
    if (!pdu) {
      result.status = pdu.status();
      return;
    }
    const net::PduHeader& h = pdu->header;
    if (h.service_id == net::kSidFile && h.command_id == net::kCidFilePullDataRsp) {
      Status s = accept(*pdu, result);
      if (!s.ok()) {
        result.status = s;
        return;
      }
      if (session_.stop_if_due(options_.stop_after_segments, options_.state_on_stop, result)) {
        return;
      }
      if (options_.stop_requested && options_.stop_requested()) {
        session_.close();
        result.status = Status::error(ErrorCode::kStopped, "interrupted");
        return;
      }
    } else if (h.service_id == net::kSidFile && h.command_id == net::kCidFileState) {
      auto state = session_.parse_state(*pdu);
      if (!state) {
        result.status = state.status();
        return;
      }
      result.final_state = state->state;
      result.status = Status::error(ErrorCode::kPeerEnded,
                                    std::string("received FILE_STATE ") + to_string(state->state) +
                                        " from user " + std::to_string(state->user_id) + " with " +
                                        std::to_string(in_flight_.size() + order_.size() - next_) +
                                        " segments outstanding");
      return;
    } else {
      result.status =
          Status::error(ErrorCode::kProtocol, "unexpected PDU while pulling: " + describe(h));
      return;
    }
  }
}

Status SegmentPuller::accept(const Pdu& pdu, TransferResult& result) {
  const auto rsp = net::parse_pull_data_rsp(pdu.body());
  if (!rsp) return Status::error(ErrorCode::kProtocol, "PULL_DATA_RSP body does not parse");
  // Named only in an error, so not built for every segment.
  const auto where = [&] {
    return "PULL_DATA_RSP (seq " + std::to_string(pdu.header.seq_num) + ", offset " +
           std::to_string(rsp->offset) + ")";
  };
  if (rsp->result_code != 0) {
    return Status::error(ErrorCode::kRefused,
                         where() + " has result_code " + std::to_string(rsp->result_code));
  }
  if (rsp->task_id != session_.task().task_id) {
    return Status::error(ErrorCode::kProtocol,
                         where() + " names task '" + std::string(rsp->task_id) + "'");
  }
  auto it = in_flight_.end();
  if (options_.match_seq_num) {
    it = in_flight_.find(pdu.header.seq_num);
    if (it != in_flight_.end() && it->second.offset != rsp->offset) {
      return Status::error(ErrorCode::kProtocol, where() + " answers a request for offset " +
                                                     std::to_string(it->second.offset));
    }
  } else {
    it = std::find_if(in_flight_.begin(), in_flight_.end(),
                      [&](const auto& e) { return e.second.offset == rsp->offset; });
  }
  if (it == in_flight_.end()) {
    return Status::error(ErrorCode::kProtocol, where() + " answers no outstanding request");
  }
  if (rsp->file_data.size() != it->second.size) {
    return Status::error(ErrorCode::kProtocol,
                         where() + " carries " + std::to_string(rsp->file_data.size()) +
                             " bytes, " + std::to_string(it->second.size) + " were requested");
  }
  if (!sink_(rsp->offset, rsp->file_data)) {
    return Status::error(ErrorCode::kIo,
                         "writing the file at offset " + std::to_string(rsp->offset));
  }
  in_flight_.erase(it);
  result.bytes += rsp->file_data.size();
  ++result.segments;
  return {};
}

}  // namespace ttfs::client
