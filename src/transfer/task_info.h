#pragma once

#include <cstdint>
#include <string>

#include "IM.BaseDefine.pb.h"
#include "common/task_id.h"

namespace ttfs::transfer {

using Mode = IM::BaseDefine::TransferFileType;
using Role = IM::BaseDefine::ClientFileRole;
using FileState = IM::BaseDefine::ClientFileState;

// What msg_server told us about a transfer when it created the task.
struct TaskInfo {
  TaskId id;
  std::string id_text;  // the canonical text, as every PDU carries it
  uint32_t from_user_id = 0;
  uint32_t to_user_id = 0;
  std::string file_name;
  uint64_t file_size = 0;
  Mode mode = IM::BaseDefine::FILE_TYPE_OFFLINE;
  int64_t created_at_unix = 0;
};

}  // namespace ttfs::transfer
