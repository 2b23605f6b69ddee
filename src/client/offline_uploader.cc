#include "client/offline_uploader.h"

#include "client/segment_server.h"

namespace ttfs::client {

OfflineUploader::OfflineUploader(Endpoint server, TaskInfo task, ReadAt source,
                                 ServeOptions options)
    : session_(std::move(server), std::move(task), FileRole::kOfflineUpload, options.session),
      source_(std::move(source)),
      options_(options) {}

Status OfflineUploader::connect() { return session_.open(); }

Result<StateEvent> OfflineUploader::wait_state(std::chrono::milliseconds timeout) {
  return session_.wait_state(timeout);
}

TransferResult OfflineUploader::run() {
  const auto start = std::chrono::steady_clock::now();
  TransferResult result;
  result.status = connect();
  if (result.ok()) SegmentServer(session_, source_, options_).run(result);
  // The original server closes after its DONE; let it, so nothing is reset.
  if (result.ok()) {
    session_.close_gracefully();
  } else {
    session_.close();
  }
  result.elapsed = std::chrono::steady_clock::now() - start;
  return result;
}

}  // namespace ttfs::client
