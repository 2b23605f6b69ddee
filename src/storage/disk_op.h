#pragma once

#include <cstdint>
#include <optional>
#include <type_traits>

#include "common/bytes.h"
#include "common/task_id.h"
#include "storage/file_meta.h"

namespace ttfs::storage {

// One request to the disk writer, as it travels through the queue.
struct DiskOp {
  enum class Kind : uint8_t { kWake, kBegin, kWrite, kFinalize, kAbort };
  Kind kind = Kind::kWake;  // kWake carries nothing: it only ends a wait
  uint32_t owner = 0;
  TaskId task_id;
  uint64_t offset = 0;           // kWrite
  Payload data;                  // kWrite
  std::optional<FileMeta> meta;  // kBegin, kFinalize
};

// The queue moves ops into pre-allocated slots; a throwing move would lose one.
static_assert(std::is_nothrow_move_constructible_v<DiskOp>);
static_assert(std::is_nothrow_move_assignable_v<DiskOp>);

}  // namespace ttfs::storage
