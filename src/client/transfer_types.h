#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "client/connection.h"
#include "client/status.h"

namespace ttfs::client {

// The protocol's enums (IM.BaseDefine), with their wire values, so that the
// library's users need not include generated protobuf headers.
enum class TransferMode : uint32_t { kOnline = 1, kOffline = 2 };
enum class FileRole : uint32_t {
  kRealtimeSender = 1,
  kRealtimeReceiver = 2,
  kOfflineUpload = 3,
  kOfflineDownload = 4,
};
enum class FileState : uint32_t { kPeerReady = 0, kCancel = 1, kRefuse = 2, kDone = 3 };

const char* to_string(FileState state);

// TeamTalk's segment size; the last segment of a file is short.
inline constexpr uint32_t kSegmentSize = 32768;

struct Endpoint {
  std::string host;  // IPv4 text
  uint16_t port = 0;
};

// What a peer knows about its task before it connects (from msg_server).
struct TaskInfo {
  std::string task_id;
  uint32_t user_id = 0;  // this peer's own id: from_user to send, to_user to receive
  uint64_t file_size = 0;
};

// A FILE_STATE as it arrived.
struct StateEvent {
  FileState state = FileState::kPeerReady;
  std::string task_id;
  uint32_t user_id = 0;
};

// Settings shared by every role's connection to the client port.
struct SessionOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  // The longest silence tolerated from the server while a reply is due.
  std::chrono::milliseconds timeout{10'000};
  // A HEARTBEAT is sent after this long without sending anything, as TeamTalk
  // clients do, so that a long wait for the peer does not idle us out.
  std::chrono::milliseconds heartbeat_interval{30'000};
  // After the last message, how long to wait for the server to close first.
  std::chrono::milliseconds close_grace{1'000};
  uint32_t max_pdu_length = kDefaultMaxPduLength;
};

struct TransferResult {
  Status status;                        // ok, or why the transfer ended early
  uint64_t bytes = 0;                   // payload bytes sent or received and accepted
  uint64_t segments = 0;                // PULL_DATA_RSPs sent or accepted
  std::chrono::nanoseconds elapsed{0};  // from connect to the end
  // The FILE_STATE that ended the transfer, whether received or sent by us.
  std::optional<FileState> final_state;
  bool final_state_sent = false;  // true when this side sent final_state

  bool ok() const { return status.ok(); }
  const std::string& error() const { return status.message(); }
};

}  // namespace ttfs::client
