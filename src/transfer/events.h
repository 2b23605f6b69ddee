#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "common/bytes.h"
#include "common/task_id.h"
#include "net/conn_handle.h"
#include "transfer/task_info.h"

namespace ttfs::transfer {

using net::ConnHandle;

// The events an IO thread hands to the worker that owns a task. Each one is
// decoded and validated for form on the IO thread; the worker judges it
// against the task. Payloads travel in the block they arrived in.

struct CreateTask {  // FILE_TRANSFER_REQ on the msg-server port
  ConnHandle conn;
  uint16_t seq = 0;
  TaskInfo info;            // with a fresh id
  std::string attach_data;  // echoed in the reply, empty or not, as the original does
};

struct Login {
  ConnHandle conn;
  uint16_t seq = 0;
  TaskId task;
  uint32_t user_id = 0;
  Role role = IM::BaseDefine::CLIENT_REALTIME_SENDER;
};

struct PullRequest {
  ConnHandle conn;
  uint16_t seq = 0;
  TaskId task;
  uint32_t user_id = 0;
  Mode mode = IM::BaseDefine::FILE_TYPE_OFFLINE;
  uint32_t offset = 0;
  uint32_t size = 0;
  Bytes pdu;  // kept whole for relaying to an online sender
};

struct PullResponse {
  ConnHandle conn;
  uint16_t seq = 0;
  TaskId task;
  uint32_t result_code = 0;
  uint32_t user_id = 0;
  uint32_t offset = 0;
  Payload data;  // data.block is the whole PDU, for relaying as received
};

struct StateReport {
  ConnHandle conn;
  uint16_t seq = 0;
  TaskId task;
  uint32_t user_id = 0;
  FileState state = IM::BaseDefine::CLIENT_FILE_DONE;
  Bytes pdu;
};

struct ConnClosed {
  ConnHandle conn;
  TaskId task;
};

// From the disk writer, for one task.
struct StoreDone {
  enum class Kind : uint8_t { kBegun, kWritten, kFinalized, kAborted };
  Kind kind = Kind::kWritten;
  TaskId task;
  uint64_t offset = 0;
  uint64_t length = 0;
  int error = 0;
};

using WorkerEvent =
    std::variant<CreateTask, Login, PullRequest, PullResponse, StateReport, ConnClosed, StoreDone>;

}  // namespace ttfs::transfer
