#pragma once

#include <chrono>

#include "client/data_io.h"
#include "client/file_session.h"
#include "client/pull_options.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// The receiving peer of an online transfer: logs in as REALTIME_RECVER,
// waits for FILE_STATE PEER_READY (sent when both peers are in, whichever
// came first), pulls every segment through the relay, and ends the transfer
// by sending FILE_STATE DONE with its own user_id, as TeamTalk's clients do.
class OnlineReceiver {
 public:
  OnlineReceiver(Endpoint server, TaskInfo task, WriteAt sink, PullOptions options = {});

  // TCP connect and LOGIN (role REALTIME_RECVER, user_id = to_user); kRefused if the server says
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
  WriteAt sink_;
  PullOptions options_;
  bool peer_ready_ = false;
};

}  // namespace ttfs::client
