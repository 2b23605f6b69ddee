#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "common/task_id.h"

namespace ttfs::storage {

// The outcome of one asynchronous store operation. Errors travel as errno
// values, never as exceptions, because they are produced on the writer
// thread and consumed on a worker.
struct DiskCompletion {
  enum class Kind : uint8_t { kBegun, kWritten, kFinalized, kAborted };
  Kind kind = Kind::kWritten;
  TaskId task_id;
  uint64_t offset = 0;  // kWritten: the range written
  uint64_t length = 0;
  int error = 0;  // 0, or an errno such as ENOSPC, EIO, EBADF (no such open upload)
};

// Called on the writer thread with every completion of one batch for one
// owner, so a worker is woken once per batch rather than once per segment.
// It must only hand the vector on (enqueue + wake), never block or do I/O.
using CompletionSink = std::function<void(uint32_t owner, std::vector<DiskCompletion>&&)>;

}  // namespace ttfs::storage
