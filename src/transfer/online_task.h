#pragma once

#include <vector>

#include "transfer/task.h"

namespace ttfs::transfer {

// An online transfer: the server relays between a logged-in sender and
// receiver and stores nothing. The receiver pulls; each pull is forwarded to
// the sender, and the sender's answer goes back stamped with the seq_num of
// the very request it answers, however many are in flight.
class OnlineTask final : public Task {
 public:
  enum class State { kWaitingPeers, kWaitingReceiver, kWaitingSender, kTransferring, kEnded };

  OnlineTask(TaskInfo info, const TransferLimits& limits, Clock::time_point now)
      : Task(std::move(info), limits, now) {}

  Verdict on_login(const Login& login, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_pull_request(PullRequest& req, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_pull_response(PullResponse& rsp, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_state(StateReport& report, Clock::time_point now, TaskEffects& fx) override;
  void on_conn_closed(ConnHandle conn, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_store_done(const StoreDone& done, Clock::time_point now, TaskEffects& fx) override;
  void on_tick(Clock::time_point now, TaskEffects& fx) override;
  bool finished() const override;
  bool transferring() const override { return state_ == State::kTransferring; }

  State state() const { return state_; }
  size_t outstanding_pulls() const { return outstanding_.size(); }

 private:
  struct Outstanding {
    uint16_t seq;
    uint32_t offset;
    uint32_t size;
  };

  bool is_sender(ConnHandle c) const { return sender_.valid() && c == sender_; }
  bool is_receiver(ConnHandle c) const { return receiver_.valid() && c == receiver_; }
  Verdict refuse(ConnHandle conn, TaskEffects& fx, const char* why);

  State state_ = State::kWaitingPeers;
  ConnHandle sender_;
  ConnHandle receiver_;
  std::vector<Outstanding> outstanding_;
};

}  // namespace ttfs::transfer
