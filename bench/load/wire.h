#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

// The small file-port messages, written and read by hand into and from
// caller-owned memory: a simulated client sends and receives them by the
// million, and a protobuf object per message would cost more than the send.
// The encoding is protobuf's (fields in number order, as protobuf writes
// them); the hot PULL_DATA_RSP is read with the project's net::parse_pull_data_rsp.
namespace ttfs::load::wire {

// Task ids longer than this are refused when a task is created, so every
// message below fits in kMaxSmallPdu bytes.
inline constexpr size_t kMaxTaskId = 64;
inline constexpr size_t kMaxSmallPdu = 128;

size_t login_req(uint8_t* out, uint16_t seq, uint32_t user_id, std::string_view task_id,
                 uint32_t role);
size_t pull_data_req(uint8_t* out, uint16_t seq, std::string_view task_id, uint32_t user_id,
                     uint32_t trans_mode, uint32_t offset, uint32_t data_size);
size_t file_state(uint8_t* out, uint16_t seq, uint32_t state, std::string_view task_id,
                  uint32_t user_id);
size_t heartbeat(uint8_t* out, uint16_t seq);
// The header and every field of a PULL_DATA_RSP up to and including the
// length of file_data: the caller sends `data_size` payload bytes after it.
size_t pull_data_rsp_prefix(uint8_t* out, uint16_t seq, uint32_t result_code,
                            std::string_view task_id, uint32_t user_id, uint32_t offset,
                            uint32_t data_size);

// The fields 1..7 of a small message: varints by value, length-delimited
// ones as views into the body. Unknown fields are skipped.
struct Fields {
  static constexpr uint32_t kMaxField = 7;
  uint64_t value[kMaxField + 1] = {};
  std::string_view bytes[kMaxField + 1];
  uint32_t seen = 0;  // bit n: field n was present

  bool has(uint32_t field) const { return (seen >> field) & 1u; }
  bool has_all(uint32_t mask) const { return (seen & mask) == mask; }
  uint32_t u32(uint32_t field) const { return static_cast<uint32_t>(value[field]); }
};

// False when the body is not well-formed protobuf wire data.
bool read_fields(std::span<const uint8_t> body, Fields& out);

}  // namespace ttfs::load::wire
