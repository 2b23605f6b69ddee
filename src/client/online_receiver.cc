#include "client/online_receiver.h"

#include "client/segment_puller.h"

namespace ttfs::client {

OnlineReceiver::OnlineReceiver(Endpoint server, TaskInfo task, WriteAt sink, PullOptions options)
    : session_(std::move(server), std::move(task), FileRole::kRealtimeReceiver, options.session),
      sink_(std::move(sink)),
      options_(options) {}

Status OnlineReceiver::connect() { return session_.open(); }

Result<StateEvent> OnlineReceiver::wait_state(std::chrono::milliseconds timeout) {
  auto state = session_.wait_state(timeout);
  // A caller that has consumed PEER_READY itself must not make run() wait again.
  if (state && state->state == FileState::kPeerReady) peer_ready_ = true;
  return state;
}

TransferResult OnlineReceiver::run() {
  const auto start = std::chrono::steady_clock::now();
  TransferResult result;
  result.status = connect();
  while (result.ok() && !peer_ready_) {
    auto state = wait_state(session_.options().timeout);
    if (!state) {
      result.status = Status::error(state.status().code(),
                                    "waiting for PEER_READY: " + state.status().message());
    } else if (state->state != FileState::kPeerReady) {
      result.final_state = state->state;
      result.status =
          Status::error(ErrorCode::kPeerEnded,
                        std::string("FILE_STATE ") + to_string(state->state) + " from user " +
                            std::to_string(state->user_id) + " before PEER_READY");
    }
  }
  if (result.ok()) SegmentPuller(session_, TransferMode::kOnline, sink_, options_).run(result);
  if (result.ok()) {
    // The receiver ends an online transfer; the server forwards our DONE to
    // the sender and closes us.
    result.status = session_.send_state(FileState::kDone);
    result.final_state = FileState::kDone;
    result.final_state_sent = true;
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
