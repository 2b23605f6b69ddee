#include "sender.h"

#include "conn.h"
#include "pattern.h"
#include "protocol_constants.h"
#include "wire.h"

namespace ttfs::load {

Sender::Sender(const Task& task, const Pattern& pattern, Counters& counters, bool online)
    : task_(task), pattern_(pattern), counters_(counters), online_(online) {}

void Sender::start(Conn& conn) {
  Conn::OutItem& item = conn.push();
  item.head_len = static_cast<uint32_t>(wire::login_req(
      item.head, 1, task_.from, task_.id, online_ ? kRoleRealtimeSender : kRoleOfflineUpload));
}

Status Sender::on_frame(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body) {
  switch (header.command_id) {
    case net::kCidFilePullDataReq:
      if (!logged_in_) return fail(Failure::kProtocol);
      return on_pull(conn, header, body);
    case net::kCidFileLoginRsp: {
      wire::Fields f;
      if (logged_in_ || !wire::read_fields(body, f) || !f.has(1)) return fail(Failure::kProtocol);
      if (f.u32(1) != 0) return fail(Failure::kLoginRefused);
      logged_in_ = true;
      return Status::kRunning;
    }
    case net::kCidFileState: {
      wire::Fields f;
      if (!wire::read_fields(body, f) || !f.has(1)) return fail(Failure::kProtocol);
      switch (f.u32(1)) {
        case kStateDone: return logged_in_ ? Status::kDone : fail(Failure::kProtocol);
        case kStatePeerReady: return Status::kRunning;  // not sent to senders; harmless
        default: return fail(Failure::kPeerEnded);
      }
    }
    case net::kCidHeartbeat: return Status::kRunning;
    default: return fail(Failure::kProtocol);
  }
}

Status Sender::on_pull(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body) {
  wire::Fields f;
  if (!wire::read_fields(body, f) || !f.has_all(0b111110)) return fail(Failure::kProtocol);
  const uint64_t offset = f.value[4];
  const uint64_t size = f.value[5];
  if (f.bytes[1] != task_.id || offset + size > task_.size || size > Pattern::kMaxSlice) {
    return fail(Failure::kBadRequest);
  }
  const auto offset32 = static_cast<uint32_t>(offset);
  const auto size32 = static_cast<uint32_t>(size);
  Conn::OutItem& item = conn.push();
  item.head_len = static_cast<uint32_t>(wire::pull_data_rsp_prefix(
      item.head, header.seq_num, 0, task_.id, task_.from, offset32, size32));
  item.data = pattern_.slice(offset, task_.salt);
  item.data_len = size32;
  // An online sender's segments are counted once, where the receiver checks them.
  if (!online_ && size > 0) {
    ++counters_.segments;
    counters_.payload_bytes += size;
  }
  return Status::kRunning;
}

}  // namespace ttfs::load
