#include "client/online_sender.h"

#include "client/segment_server.h"

namespace ttfs::client {

OnlineSender::OnlineSender(Endpoint server, TaskInfo task, ReadAt source, ServeOptions options)
    : session_(std::move(server), std::move(task), FileRole::kRealtimeSender, options.session),
      source_(std::move(source)),
      options_(options) {}

Status OnlineSender::connect() { return session_.open(); }

Result<StateEvent> OnlineSender::wait_state(std::chrono::milliseconds timeout) {
  return session_.wait_state(timeout);
}

TransferResult OnlineSender::run() {
  const auto start = std::chrono::steady_clock::now();
  TransferResult result;
  result.status = connect();
  if (result.ok()) SegmentServer(session_, source_, options_).run(result);
  // The receiver's DONE reached us through the relay; close without a reset.
  if (result.ok()) {
    session_.close_gracefully();
  } else {
    session_.close();
  }
  result.elapsed = std::chrono::steady_clock::now() - start;
  return result;
}

}  // namespace ttfs::client
