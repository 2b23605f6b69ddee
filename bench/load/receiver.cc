#include "receiver.h"

#include <algorithm>
#include <cstring>

#include "conn.h"
#include "net/pull_data_codec.h"
#include "pattern.h"
#include "protocol_constants.h"
#include "wire.h"

namespace ttfs::load {

Receiver::Receiver(const Task& task, const Pattern& pattern, Counters& counters, uint32_t window,
                   bool online)
    : task_(task), pattern_(pattern), counters_(counters), window_(window), online_(online) {
  in_flight_.reserve(window);
}

void Receiver::start(Conn& conn) {
  Conn::OutItem& item = conn.push();
  item.head_len = static_cast<uint32_t>(wire::login_req(
      item.head, 1, task_.to, task_.id, online_ ? kRoleRealtimeReceiver : kRoleOfflineDownload));
}

Status Receiver::on_frame(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body) {
  // After its DONE the receiver only waits for the server to close it.
  if (state_ == State::kDoneSent) return Status::kRunning;
  switch (header.command_id) {
    case net::kCidFilePullDataRsp:
      if (state_ != State::kPulling) return fail(Failure::kProtocol);
      return on_data(conn, body);
    case net::kCidFileLoginRsp: {
      wire::Fields f;
      if (state_ != State::kLogin || !wire::read_fields(body, f) || !f.has(1)) {
        return fail(Failure::kProtocol);
      }
      if (f.u32(1) != 0) return fail(Failure::kLoginRefused);
      if (online_) {
        state_ = State::kWaitReady;
        return Status::kRunning;
      }
      state_ = State::kPulling;
      return pump(conn);
    }
    case net::kCidFileState: {
      wire::Fields f;
      if (!wire::read_fields(body, f) || !f.has(1)) return fail(Failure::kProtocol);
      const uint32_t state = f.u32(1);
      if (state == kStatePeerReady && state_ == State::kWaitReady) {
        state_ = State::kPulling;
        return pump(conn);
      }
      if (state == kStateDone && state_ == State::kWaitDone) return Status::kDone;
      if (state == kStateDone && state_ == State::kPulling) return fail(Failure::kBadReply);
      return fail(state == kStateCancel || state == kStateRefuse ? Failure::kPeerEnded
                                                                 : Failure::kProtocol);
    }
    case net::kCidHeartbeat: return Status::kRunning;
    default: return fail(Failure::kProtocol);
  }
}

Status Receiver::on_data(Conn& conn, std::span<const uint8_t> body) {
  const auto rsp = net::parse_pull_data_rsp(body);
  if (!rsp) return fail(Failure::kProtocol);
  if (rsp->result_code != 0) return fail(Failure::kBadReply);
  const auto it = std::find_if(in_flight_.begin(), in_flight_.end(),
                               [&](const Pull& p) { return p.offset == rsp->offset; });
  if (it == in_flight_.end() || rsp->file_data.size() != it->size) {
    return fail(Failure::kBadReply);
  }
  if (std::memcmp(rsp->file_data.data(), pattern_.slice(it->offset, task_.salt), it->size) != 0) {
    ++counters_.mismatched_segments;
    return fail(Failure::kMismatch);
  }
  received_ += it->size;
  ++counters_.segments;
  counters_.payload_bytes += it->size;
  in_flight_.erase(it);
  return pump(conn);
}

Status Receiver::pump(Conn& conn) {
  while (in_flight_.size() < window_ && next_offset_ < task_.size) {
    const auto offset = static_cast<uint32_t>(next_offset_);
    const auto size = static_cast<uint32_t>(std::min<uint64_t>(kSegmentSize, task_.size - offset));
    Conn::OutItem& item = conn.push();
    item.head_len = static_cast<uint32_t>(
        wire::pull_data_req(item.head, next_seq_++, task_.id, task_.to,
                            online_ ? kTransOnline : kTransOffline, offset, size));
    in_flight_.push_back({offset, size});
    next_offset_ += size;
  }
  if (received_ < task_.size) return Status::kRunning;
  if (!online_) {
    state_ = State::kWaitDone;
    return Status::kRunning;
  }
  Conn::OutItem& item = conn.push();
  item.head_len = static_cast<uint32_t>(
      wire::file_state(item.head, next_seq_++, kStateDone, task_.id, task_.to));
  state_ = State::kDoneSent;
  return Status::kRunning;
}

Status Receiver::on_eof() {
  // The server closes the connection that sent DONE: that is the online end.
  return state_ == State::kDoneSent ? Status::kDone : fail(Failure::kClosed);
}

}  // namespace ttfs::load
