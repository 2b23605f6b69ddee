#include "client/offline_downloader.h"

#include "client/segment_puller.h"

namespace ttfs::client {

OfflineDownloader::OfflineDownloader(Endpoint server, TaskInfo task, WriteAt sink,
                                     DownloadOptions options)
    : session_(std::move(server), std::move(task), FileRole::kOfflineDownload,
               options.pull.session),
      sink_(std::move(sink)),
      options_(options) {}

Status OfflineDownloader::connect() { return session_.open(); }

Result<StateEvent> OfflineDownloader::wait_state(std::chrono::milliseconds timeout) {
  return session_.wait_state(timeout);
}

TransferResult OfflineDownloader::run() {
  const auto start = std::chrono::steady_clock::now();
  TransferResult result;
  result.status = connect();
  if (result.ok())
    SegmentPuller(session_, TransferMode::kOffline, sink_, options_.pull).run(result);
  if (result.ok() && options_.send_done) {
    result.status = session_.send_state(FileState::kDone);
    result.final_state = FileState::kDone;
    result.final_state_sent = true;
  }
  if (result.ok() && options_.expect_done) {
    auto state = session_.wait_state(session_.options().timeout);
    if (!state) {
      result.status = Status::error(state.status().code(),
                                    "all bytes in, waiting for DONE: " + state.status().message());
    } else {
      result.final_state = state->state;
      result.final_state_sent = false;
      if (state->state != FileState::kDone) {
        result.status =
            Status::error(ErrorCode::kPeerEnded, std::string("all bytes in, then FILE_STATE ") +
                                                     to_string(state->state) + " instead of DONE");
      }
    }
  }
  if (result.ok()) {
    session_.close_gracefully();
  } else {
    session_.close();
  }
  result.elapsed = std::chrono::steady_clock::now() - start;
  return result;
}

}  // namespace ttfs::client
