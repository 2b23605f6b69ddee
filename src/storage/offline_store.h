#pragma once

#include <cstdint>
#include <memory>
#include <optional>

#include "common/bytes.h"
#include "common/task_id.h"
#include "storage/disk_completion.h"
#include "storage/file_meta.h"
#include "storage/file_reader.h"

namespace ttfs::storage {

// The offline store as the workers see it. The local disk is the embedded
// implementation; a distributed object store with asynchronous writes and
// completions (librados) fits the same shape.
//
// The four mutating calls are asynchronous and thread-safe: each answers with
// exactly one DiskCompletion per call (per segment for write_segment) through
// the CompletionSink. `owner` is an opaque tag handed back to the sink. Ops
// issued by one thread are applied in the order it issued them. Nothing is
// ever dropped: the producers bound their own in-flight work.
class OfflineStore {
 public:
  virtual ~OfflineStore() = default;

  virtual void start() = 0;
  // Completes every op issued before stop(), then joins. Idempotent. No op
  // may be issued after stop().
  virtual void stop() = 0;

  // Creates the task's data file (a fresh task starts empty; a partial
  // upload being resumed keeps its bytes) and writes complete=false metadata.
  // A task whose metadata already says complete is refused with EEXIST.
  // meta.durable_bytes is the prefix the caller resumes after (0 for a fresh
  // upload); ESTALE if the store no longer holds that much of it.
  virtual void begin_upload(uint32_t owner, const FileMeta& meta) = 0;
  // kWritten once the bytes are in the file (not yet necessarily durable).
  // EBADF if the upload is not open, EINVAL if the range passes file_size.
  virtual void write_segment(uint32_t owner, const TaskId& id, uint64_t offset, Payload data) = 0;
  // kFinalized only once the data and the complete=true metadata are both on
  // stable storage; refused if an earlier write of the upload failed or the
  // data is not exactly file_size bytes long.
  virtual void finalize_upload(uint32_t owner, const FileMeta& meta) = 0;
  // Closes and removes the task's data and metadata.
  virtual void abort_upload(uint32_t owner, const TaskId& id) = 0;

  // Synchronous and cheap enough for a worker at a download login.
  // The metadata if the file is complete and its data is exactly file_size
  // bytes long; otherwise nullopt (the reason is logged).
  virtual std::optional<FileMeta> lookup_complete(const TaskId& id) = 0;
  // The metadata of a partial upload a restart left behind, with the prefix
  // a checkpoint made durable (durable_bytes, never past the data file's
  // end); nullopt if there is none. The sender may resume it from there.
  virtual std::optional<FileMeta> lookup_partial(const TaskId& id) = 0;
  // A reader for a complete file, or nullptr.
  virtual std::unique_ptr<FileReader> open_reader(const TaskId& id) = 0;
};

}  // namespace ttfs::storage
