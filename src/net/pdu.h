#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace google::protobuf {
class MessageLite;
}

namespace ttfs::net {

// The 16-byte big-endian PDU header of the TeamTalk protocol.
inline constexpr size_t kPduHeaderSize = 16;
inline constexpr uint16_t kPduVersion = 1;

enum ServiceId : uint16_t {
  kSidFile = 0x0005,
  kSidOther = 0x0007,
};

enum CommandId : uint16_t {
  kCidFileLoginReq = 0x0501,
  kCidFileLoginRsp = 0x0502,
  kCidFileState = 0x0503,
  kCidFilePullDataReq = 0x0504,
  kCidFilePullDataRsp = 0x0505,
  kCidHeartbeat = 0x0701,
  kCidFileTransferReq = 0x0731,
  kCidFileTransferRsp = 0x0732,
  kCidFileServerIpReq = 0x0733,
  kCidFileServerIpRsp = 0x0734,
};

struct PduHeader {
  uint32_t length = 0;  // whole PDU, header included
  uint16_t version = kPduVersion;
  uint16_t flag = 0;
  uint16_t service_id = 0;
  uint16_t command_id = 0;
  uint16_t seq_num = 0;
  uint16_t reserved = 0;

  size_t body_length() const { return length - kPduHeaderSize; }
};

// Reads big-endian fields with memcpy: input bytes are never cast in place.
PduHeader read_header(const uint8_t* src);
void write_header(const PduHeader& header, uint8_t* dst);
// Rewrites the seq_num of a complete PDU held in `pdu` (relay forwarding).
void patch_seq_num(uint8_t* pdu, uint16_t seq_num);

enum class FrameStatus {
  kNeedMore,  // not a whole PDU yet; read more
  kFrame,     // a whole PDU of `length` bytes starts at the input
  kTooShort,  // the length field is under 16: a protocol error
  kTooLong,   // the length field is over the maximum: refused before buffering
};

struct FrameResult {
  FrameStatus status = FrameStatus::kNeedMore;
  PduHeader header;
};

// Cuts one PDU from the start of `input`. The bounds are checked as soon as
// the header is readable, so an oversize length is refused before its body
// is waited for.
FrameResult next_frame(std::span<const uint8_t> input, uint32_t max_pdu_length);

// Encodes a whole PDU (header and serialised body) into one owned block.
Bytes encode_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num,
                 const google::protobuf::MessageLite& body);
// A PDU with an empty body (the heartbeat).
Bytes encode_empty_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num);

}  // namespace ttfs::net
