#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "net/conn_handle.h"
#include "transfer/task_info.h"

namespace ttfs::transfer {

using net::ConnHandle;

// Everything a task can make happen. Tasks are pure logic: they decide, and
// the worker carries the decision out (tests record it instead).
class TaskEffects {
 public:
  virtual ~TaskEffects() = default;

  virtual void send_login_rsp(ConnHandle to, uint16_t seq, const TaskInfo& task, bool ok) = 0;
  // The server's request for one segment of an offline upload.
  virtual void send_pull_req(ConnHandle to, uint16_t seq, const TaskInfo& task, uint64_t offset,
                             uint32_t size) = 0;
  virtual void send_state(ConnHandle to, const TaskInfo& task, FileState state,
                          uint32_t user_id) = 0;
  // Relays a peer's PDU as it arrived, with its seq_num set to `seq`.
  virtual void forward(ConnHandle to, Bytes pdu, uint16_t seq) = 0;
  // Answers a download pull from the stored file; false when it cannot be read.
  virtual bool send_segment(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                            uint64_t offset, uint32_t size) = 0;
  // A PULL_DATA_RSP with result_code 1 and no data: the protocol's refusal.
  virtual void send_pull_refusal(ConnHandle to, uint16_t seq, const TaskInfo& task,
                                 uint32_t user_id, uint64_t offset) = 0;
  // Closes once everything already queued to it is written.
  virtual void close(ConnHandle conn, const char* why) = 0;

  // `resume_from`: the bytes from offset 0 the task takes as already stored
  // (a resume after a restart), which the store must still hold.
  virtual void store_begin(const TaskInfo& task, uint64_t resume_from) = 0;
  virtual void store_write(const TaskInfo& task, uint64_t offset, Payload data) = 0;
  virtual void store_finalize(const TaskInfo& task) = 0;
  virtual void store_abort(const TaskInfo& task) = 0;

  // How many segments an upload may have asked for and not yet stored, now:
  // `configured` (UploadWindow) unless the worker shares it down.
  virtual uint32_t upload_window(uint32_t configured) const { return configured; }
};

}  // namespace ttfs::transfer
