#include "net/pdu.h"

#include <arpa/inet.h>
#include <google/protobuf/message_lite.h>

#include <cstring>

namespace ttfs::net {

namespace {

uint16_t load16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return ntohs(v);
}

uint32_t load32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof v);
  return ntohl(v);
}

void store16(uint8_t* p, uint16_t v) {
  v = htons(v);
  std::memcpy(p, &v, sizeof v);
}

void store32(uint8_t* p, uint32_t v) {
  v = htonl(v);
  std::memcpy(p, &v, sizeof v);
}

}  // namespace

PduHeader read_header(const uint8_t* src) {
  PduHeader h;
  h.length = load32(src);
  h.version = load16(src + 4);
  h.flag = load16(src + 6);
  h.service_id = load16(src + 8);
  h.command_id = load16(src + 10);
  h.seq_num = load16(src + 12);
  h.reserved = load16(src + 14);
  return h;
}

void write_header(const PduHeader& h, uint8_t* dst) {
  store32(dst, h.length);
  store16(dst + 4, h.version);
  store16(dst + 6, h.flag);
  store16(dst + 8, h.service_id);
  store16(dst + 10, h.command_id);
  store16(dst + 12, h.seq_num);
  store16(dst + 14, h.reserved);
}

void patch_seq_num(uint8_t* pdu, uint16_t seq_num) { store16(pdu + 12, seq_num); }

FrameResult next_frame(std::span<const uint8_t> input, uint32_t max_pdu_length) {
  FrameResult result;
  if (input.size() < kPduHeaderSize) return result;
  result.header = read_header(input.data());
  if (result.header.length < kPduHeaderSize) {
    result.status = FrameStatus::kTooShort;
  } else if (result.header.length > max_pdu_length) {
    result.status = FrameStatus::kTooLong;
  } else if (input.size() >= result.header.length) {
    result.status = FrameStatus::kFrame;
  }
  return result;
}

Bytes encode_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num,
                 const google::protobuf::MessageLite& body) {
  const size_t body_size = body.ByteSizeLong();
  Bytes pdu(kPduHeaderSize + body_size);
  PduHeader h;
  h.length = static_cast<uint32_t>(pdu.size());
  h.service_id = service_id;
  h.command_id = command_id;
  h.seq_num = seq_num;
  write_header(h, pdu.data());
  body.SerializeWithCachedSizesToArray(pdu.data() + kPduHeaderSize);
  return pdu;
}

Bytes encode_empty_pdu(uint16_t service_id, uint16_t command_id, uint16_t seq_num) {
  Bytes pdu(kPduHeaderSize);
  PduHeader h;
  h.length = kPduHeaderSize;
  h.service_id = service_id;
  h.command_id = command_id;
  h.seq_num = seq_num;
  write_header(h, pdu.data());
  return pdu;
}

}  // namespace ttfs::net
