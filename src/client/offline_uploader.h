#pragma once

#include <chrono>

#include "client/data_io.h"
#include "client/file_session.h"
#include "client/serve_options.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// Stores a file on the server: logs in as OFFLINE_UPLOAD and answers every
// PULL_DATA_REQ the server sends (one by one, however many are outstanding,
// each reply with its request's seq_num) until the server's FILE_STATE DONE
// says everything is stored. The server may ask for only part of the file
// (resuming an earlier upload), so DONE, not a byte count, means success.
class OfflineUploader {
 public:
  OfflineUploader(Endpoint server, TaskInfo task, ReadAt source, ServeOptions options = {});

  // TCP connect and LOGIN (role OFFLINE_UPLOAD, user_id = from_user); kRefused if the server says
  // no. run() calls it when the caller has not.
  Status connect();
  TransferResult run();

  // For tests and tools that drive the ending themselves. FILE_STATE carries
  // our own user_id, as TeamTalk's clients send it.
  Status send_state(FileState state) { return session_.send_state(state); }
  // The next FILE_STATE from the server (heartbeats skipped).
  Result<StateEvent> wait_state(std::chrono::milliseconds timeout);
  void close() { session_.close(); }

 private:
  FileSession session_;
  ReadAt source_;
  ServeOptions options_;
};

}  // namespace ttfs::client
