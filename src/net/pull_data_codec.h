#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "common/bytes.h"
#include "net/pdu.h"

namespace ttfs::net {

// The hot message, IMFilePullDataRsp, read and written by hand so that its
// payload is never copied by a protobuf object: the parsed view points into
// the PDU's own bytes, and a built PDU leaves room for the payload to be
// filled in place (by pread, or by the caller's memcpy).

struct PullDataRspView {
  uint32_t result_code = 0;
  std::string_view task_id;
  uint32_t user_id = 0;
  uint32_t offset = 0;
  std::span<const uint8_t> file_data;
};

// Parses a PULL_DATA_RSP body with protobuf's wire rules (fields in any
// order, the last of a repeated scalar wins, unknown fields skipped). Returns
// nullopt when the body is malformed or a required field is missing, and, as
// no client of this protocol sends them although protobuf-lite lets them
// pass, when a key is wider than 32 bits, a known field has another wire
// type, or the body holds a group.
std::optional<PullDataRspView> parse_pull_data_rsp(std::span<const uint8_t> body);

// Where file_data's bytes start in a PULL_DATA_RSP PDU of which `arrived`
// are the first bytes, header included; nullopt when they do not reach that
// far, or are not the start of one. Only the fields before file_data are
// read, so it works on a PDU still arriving.
std::optional<size_t> find_pull_data_payload(std::span<const uint8_t> arrived);

// An uninitialised block for the PDU `header` frames: a PULL_DATA_RSP's
// payload, found at `payload_at` by find_pull_data_payload(), will lie on a
// page boundary of it, so that the store can write it with O_DIRECT where
// it lies.
Bytes pdu_block(const PduHeader& header, std::optional<size_t> payload_at);

// Copies one framed PDU out of a connection's input into its pdu_block().
Bytes copy_pdu(std::span<const uint8_t> pdu, const PduHeader& header);

struct PullDataRspBuilder {
  Bytes pdu;           // the whole PDU, header included
  size_t data_offset;  // where the caller writes `data_size` payload bytes
};

// Builds a PULL_DATA_RSP PDU with file_data last (as protobuf itself
// serialises it) and its payload bytes left for the caller to fill.
PullDataRspBuilder build_pull_data_rsp(uint16_t seq_num, uint32_t result_code,
                                       std::string_view task_id, uint32_t user_id, uint32_t offset,
                                       size_t data_size);

}  // namespace ttfs::net
