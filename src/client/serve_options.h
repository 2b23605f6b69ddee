#pragma once

#include <cstdint>
#include <optional>

#include "client/transfer_types.h"

namespace ttfs::client {

// A deliberately wrong PULL_DATA_RSP, to test that a server refuses it.
enum class ReplyFault {
  kNone,
  kShort,        // one byte less than requested
  kOversize,     // one byte more than requested
  kWrongOffset,  // the next segment's offset instead of the requested one
  kWrongTask,    // another task id
  kUnrequested,  // an extra reply for a segment never requested, before the real one
  kDuplicate,    // the right reply, then the same reply again
  kUnaligned,    // the requested offset plus 100, off the segment grid
  kWrongSeq,     // the right offset and bytes, with the seq_num of the next request
  kWrongUser,    // another user id
  kErrorResult,  // result_code 1 with the requested bytes
};

// Options of the roles that answer PULL_DATA_REQ (OfflineUploader, OnlineSender).
struct ServeOptions {
  SessionOptions session;
  // Closes the connection abruptly after answering this many requests, to
  // simulate a sender that dies mid-transfer; the result is kStopped.
  std::optional<uint64_t> stop_after_segments;
  // Sent (then a graceful close) when stopping, e.g. CANCEL mid-transfer;
  // without it the connection is just dropped.
  std::optional<FileState> state_on_stop;
  ReplyFault fault = ReplyFault::kNone;
  uint64_t fault_at_segment = 0;  // 0-based index of the reply to spoil
  // Requests above this are refused as malformed (protects our memory).
  uint32_t max_segment_size = 4u << 20;
};

}  // namespace ttfs::client
