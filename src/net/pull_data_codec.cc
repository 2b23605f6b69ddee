#include "net/pull_data_codec.h"

#include <cstring>

#include "net/pdu.h"

namespace ttfs::net {

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

class WireReader {
 public:
  explicit WireReader(std::span<const uint8_t> in)
      : begin_(in.data()), p_(in.data()), end_(in.data() + in.size()) {}

  bool done() const { return p_ == end_; }
  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  // A value: 10 bytes at most, as protobuf reads one.
  bool varint(uint64_t& out, int max_bytes = 10) {
    out = 0;
    for (int shift = 0; shift < 7 * max_bytes; shift += 7) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      out |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // longer than allowed
  }

  // A field's key, and a length prefix: 5 bytes at most, as protobuf reads
  // them, so no length wraps around 64 bits to a small one.
  bool key(uint64_t& out) { return varint(out, kKeyOrLengthBytes); }
  bool length_prefix(uint64_t& len) { return varint(len, kKeyOrLengthBytes); }

  // A length prefix, then that many bytes, all within what is left.
  bool bytes(std::span<const uint8_t>& out) {
    uint64_t len;
    if (!length_prefix(len) || len > static_cast<uint64_t>(end_ - p_)) return false;
    out = {p_, static_cast<size_t>(len)};
    p_ += len;
    return true;
  }

  bool skip(uint32_t wire_type) {
    uint64_t ignored;
    std::span<const uint8_t> ignored_bytes;
    switch (wire_type) {
      case kVarint: return varint(ignored);
      case kLengthDelimited: return bytes(ignored_bytes);
      case kFixed64: return advance(8);
      case kFixed32: return advance(4);
      default: return false;  // groups are not used by this protocol
    }
  }

 private:
  static constexpr int kKeyOrLengthBytes = 5;

  bool advance(size_t n) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    p_ += n;
    return true;
  }

  const uint8_t* begin_;
  const uint8_t* p_;
  const uint8_t* end_;
};

uint8_t* put_varint(uint8_t* p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
  return p;
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

constexpr uint8_t tag(uint32_t field, WireType type) {
  return static_cast<uint8_t>(field << 3 | type);
}

}  // namespace

std::optional<PullDataRspView> parse_pull_data_rsp(std::span<const uint8_t> body) {
  PullDataRspView view;
  WireReader in(body);
  unsigned seen = 0;
  while (!in.done()) {
    uint64_t key;
    if (!in.key(key) || key > UINT32_MAX) return std::nullopt;
    const auto field = static_cast<uint32_t>(key >> 3);
    const auto type = static_cast<uint32_t>(key & 7);
    const bool varint_field = field == 1 || field == 3 || field == 4;
    const bool bytes_field = field == 2 || field == 5;
    if (varint_field || bytes_field) {
      // Stricter than protobuf, which would keep a mistyped known field as
      // an unknown one: no client of this protocol sends one.
      if (type != (varint_field ? kVarint : kLengthDelimited)) return std::nullopt;
      uint64_t v = 0;
      std::span<const uint8_t> b;
      if (varint_field ? !in.varint(v) : !in.bytes(b)) return std::nullopt;
      // uint32 fields keep the low 32 bits of a wider varint, as protobuf does.
      const auto v32 = static_cast<uint32_t>(v);
      switch (field) {
        case 1: view.result_code = v32; break;
        case 2: view.task_id = {reinterpret_cast<const char*>(b.data()), b.size()}; break;
        case 3: view.user_id = v32; break;
        case 4: view.offset = v32; break;
        case 5: view.file_data = b; break;
      }
      seen |= 1u << field;
    } else if (field == 0 || !in.skip(type)) {
      return std::nullopt;  // field 0, or a torn unknown field
    }
  }
  constexpr unsigned kRequired = 0b111110;
  if ((seen & kRequired) != kRequired) return std::nullopt;
  return view;
}

std::optional<size_t> find_pull_data_payload(std::span<const uint8_t> arrived) {
  if (arrived.size() < kPduHeaderSize) return std::nullopt;
  WireReader in(arrived.subspan(kPduHeaderSize));
  while (!in.done()) {
    uint64_t key;
    if (!in.key(key)) return std::nullopt;
    const auto type = static_cast<uint32_t>(key & 7);
    if (key >> 3 == 5 && type == kLengthDelimited) {
      // The payload need not have arrived: its length is read, not checked.
      uint64_t length;
      if (!in.length_prefix(length)) return std::nullopt;
      return kPduHeaderSize + in.position();
    }
    if (key >> 3 == 0 || !in.skip(type)) return std::nullopt;
  }
  return std::nullopt;
}

Bytes pdu_block(const PduHeader& header, std::optional<size_t> payload_at) {
  if (header.command_id == kCidFilePullDataRsp && payload_at && *payload_at <= header.length &&
      header.length - *payload_at >= kPayloadAlignment) {
    return Bytes::aligned(header.length, *payload_at, kPayloadAlignment);
  }
  return Bytes(header.length);
}

Bytes copy_pdu(std::span<const uint8_t> pdu, const PduHeader& header) {
  Bytes block =
      pdu_block(header, header.command_id == kCidFilePullDataRsp ? find_pull_data_payload(pdu)
                                                                 : std::nullopt);
  std::memcpy(block.data(), pdu.data(), pdu.size());
  return block;
}

PullDataRspBuilder build_pull_data_rsp(uint16_t seq_num, uint32_t result_code,
                                       std::string_view task_id, uint32_t user_id, uint32_t offset,
                                       size_t data_size) {
  const size_t body_size = 1 + varint_size(result_code) + 1 + varint_size(task_id.size()) +
                           task_id.size() + 1 + varint_size(user_id) + 1 + varint_size(offset) + 1 +
                           varint_size(data_size) + data_size;
  const size_t pdu_size = kPduHeaderSize + body_size;
  // A page-aligned payload lets the store read into it with O_DIRECT.
  PullDataRspBuilder out{data_size >= kPayloadAlignment
                             ? Bytes::aligned(pdu_size, pdu_size - data_size, kPayloadAlignment)
                             : Bytes(pdu_size),
                         0};
  PduHeader h;
  h.length = static_cast<uint32_t>(out.pdu.size());
  h.service_id = kSidFile;
  h.command_id = kCidFilePullDataRsp;
  h.seq_num = seq_num;
  write_header(h, out.pdu.data());

  uint8_t* p = out.pdu.data() + kPduHeaderSize;
  *p++ = tag(1, kVarint);
  p = put_varint(p, result_code);
  *p++ = tag(2, kLengthDelimited);
  p = put_varint(p, task_id.size());
  if (!task_id.empty()) std::memcpy(p, task_id.data(), task_id.size());
  p += task_id.size();
  *p++ = tag(3, kVarint);
  p = put_varint(p, user_id);
  *p++ = tag(4, kVarint);
  p = put_varint(p, offset);
  *p++ = tag(5, kLengthDelimited);
  p = put_varint(p, data_size);
  out.data_offset = static_cast<size_t>(p - out.pdu.data());
  return out;
}

}  // namespace ttfs::net
