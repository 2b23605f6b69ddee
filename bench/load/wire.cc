#include "wire.h"

#include <cstring>

#include "net/pdu.h"

namespace ttfs::load::wire {

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

uint8_t* put_uint(uint8_t* p, uint32_t field, uint64_t v) {
  p = put_varint(p, field << 3 | kVarint);
  return put_varint(p, v);
}

uint8_t* put_bytes(uint8_t* p, uint32_t field, std::string_view s) {
  p = put_varint(p, field << 3 | kLengthDelimited);
  p = put_varint(p, s.size());
  if (!s.empty()) std::memcpy(p, s.data(), s.size());
  return p + s.size();
}

// Writes the header last, once the body (written after it) has its length;
// `pdu_length` may include payload that the caller sends separately.
size_t finish(uint8_t* out, uint8_t* end, uint16_t command, uint16_t seq, size_t extra = 0) {
  const size_t written = static_cast<size_t>(end - out);
  net::PduHeader h;
  h.length = static_cast<uint32_t>(written + extra);
  h.service_id = net::kSidFile;
  h.command_id = command;
  h.seq_num = seq;
  net::write_header(h, out);
  return written;
}

bool get_varint(const uint8_t*& p, const uint8_t* end, uint64_t& out) {
  out = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p == end) return false;
    const uint8_t b = *p++;
    out |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

size_t login_req(uint8_t* out, uint16_t seq, uint32_t user_id, std::string_view task_id,
                 uint32_t role) {
  uint8_t* p = out + net::kPduHeaderSize;
  p = put_uint(p, 1, user_id);
  p = put_bytes(p, 2, task_id);
  p = put_uint(p, 3, role);
  return finish(out, p, net::kCidFileLoginReq, seq);
}

size_t pull_data_req(uint8_t* out, uint16_t seq, std::string_view task_id, uint32_t user_id,
                     uint32_t trans_mode, uint32_t offset, uint32_t data_size) {
  uint8_t* p = out + net::kPduHeaderSize;
  p = put_bytes(p, 1, task_id);
  p = put_uint(p, 2, user_id);
  p = put_uint(p, 3, trans_mode);
  p = put_uint(p, 4, offset);
  p = put_uint(p, 5, data_size);
  return finish(out, p, net::kCidFilePullDataReq, seq);
}

size_t file_state(uint8_t* out, uint16_t seq, uint32_t state, std::string_view task_id,
                  uint32_t user_id) {
  uint8_t* p = out + net::kPduHeaderSize;
  p = put_uint(p, 1, state);
  p = put_bytes(p, 2, task_id);
  p = put_uint(p, 3, user_id);
  return finish(out, p, net::kCidFileState, seq);
}

size_t heartbeat(uint8_t* out, uint16_t seq) {
  net::PduHeader h;
  h.length = net::kPduHeaderSize;
  h.service_id = net::kSidOther;
  h.command_id = net::kCidHeartbeat;
  h.seq_num = seq;
  net::write_header(h, out);
  return net::kPduHeaderSize;
}

size_t pull_data_rsp_prefix(uint8_t* out, uint16_t seq, uint32_t result_code,
                            std::string_view task_id, uint32_t user_id, uint32_t offset,
                            uint32_t data_size) {
  uint8_t* p = out + net::kPduHeaderSize;
  p = put_uint(p, 1, result_code);
  p = put_bytes(p, 2, task_id);
  p = put_uint(p, 3, user_id);
  p = put_uint(p, 4, offset);
  p = put_varint(p, 5 << 3 | kLengthDelimited);
  p = put_varint(p, data_size);
  return finish(out, p, net::kCidFilePullDataRsp, seq, data_size);
}

bool read_fields(std::span<const uint8_t> body, Fields& out) {
  const uint8_t* p = body.data();
  const uint8_t* const end = p + body.size();
  while (p != end) {
    uint64_t key;
    if (!get_varint(p, end, key) || key > UINT32_MAX) return false;
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    if (field == 0) return false;
    uint64_t v = 0;
    std::string_view bytes;
    switch (type) {
      case kVarint:
        if (!get_varint(p, end, v)) return false;
        break;
      case kLengthDelimited:
        if (!get_varint(p, end, v) || v > static_cast<uint64_t>(end - p)) return false;
        bytes = {reinterpret_cast<const char*>(p), static_cast<size_t>(v)};
        p += v;
        break;
      case kFixed64:
      case kFixed32: {
        const size_t n = type == kFixed64 ? 8 : 4;
        if (static_cast<size_t>(end - p) < n) return false;
        p += n;
        break;
      }
      default: return false;
    }
    if (field <= Fields::kMaxField) {
      out.value[field] = v;
      out.bytes[field] = bytes;
      out.seen |= 1u << field;
    }
  }
  return true;
}

}  // namespace ttfs::load::wire
