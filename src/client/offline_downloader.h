#pragma once

#include <chrono>

#include "client/data_io.h"
#include "client/download_options.h"
#include "client/file_session.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// Fetches a stored file: logs in as OFFLINE_DOWNLOAD, pulls every segment
// (a window of requests in flight, in order or shuffled), checks each reply,
// writes it through the sink, and then expects the server's FILE_STATE DONE.
class OfflineDownloader {
 public:
  OfflineDownloader(Endpoint server, TaskInfo task, WriteAt sink, DownloadOptions options = {});

  // TCP connect and LOGIN (role OFFLINE_DOWNLOAD, user_id = to_user); kRefused if the server says
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
  DownloadOptions options_;
};

}  // namespace ttfs::client
