#pragma once

#include <chrono>

#include "client/data_io.h"
#include "client/file_session.h"
#include "client/serve_options.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// The sending peer of an online (relayed) transfer: logs in as
// REALTIME_SENDER and answers the receiver's PULL_DATA_REQs, forwarded by the
// server, until the receiver's FILE_STATE (DONE ends it well; CANCEL or
// REFUSE with kPeerEnded) is forwarded to it, or the connection closes.
class OnlineSender {
 public:
  OnlineSender(Endpoint server, TaskInfo task, ReadAt source, ServeOptions options = {});

  // TCP connect and LOGIN (role REALTIME_SENDER, user_id = from_user); kRefused if the server says
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
