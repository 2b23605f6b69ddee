#include "transfer/online_task.h"

#include <algorithm>

namespace ttfs::transfer {

using IM::BaseDefine::CLIENT_FILE_CANCEL;
using IM::BaseDefine::CLIENT_FILE_PEER_READY;
using IM::BaseDefine::CLIENT_REALTIME_RECVER;
using IM::BaseDefine::CLIENT_REALTIME_SENDER;

Verdict OnlineTask::refuse(ConnHandle conn, TaskEffects& fx, const char* why) {
  fx.close(conn, why);
  return Verdict::refuse(why);
}

Verdict OnlineTask::on_login(const Login& login, Clock::time_point now, TaskEffects& fx) {
  const char* refusal = nullptr;
  if (state_ == State::kEnded) {
    refusal = "the online task has ended";
  } else if (login.role == CLIENT_REALTIME_SENDER) {
    if (login.user_id != info_.from_user_id)
      refusal = "user is not the task's sender";
    else if (sender_.valid())
      refusal = "the sender is already logged in";
  } else if (login.role == CLIENT_REALTIME_RECVER) {
    if (login.user_id != info_.to_user_id)
      refusal = "user is not the task's receiver";
    else if (receiver_.valid())
      refusal = "the receiver is already logged in";
  } else {
    refusal = "an offline role on an online task";
  }
  if (refusal != nullptr) {
    fx.send_login_rsp(login.conn, login.seq, info_, false);
    return refuse(login.conn, fx, refusal);
  }

  (login.role == CLIENT_REALTIME_SENDER ? sender_ : receiver_) = login.conn;
  last_activity_ = now;
  fx.send_login_rsp(login.conn, login.seq, info_, true);
  if (sender_.valid() && receiver_.valid()) {
    state_ = State::kTransferring;
    fx.send_state(receiver_, info_, CLIENT_FILE_PEER_READY, info_.from_user_id);
  } else {
    state_ = sender_.valid() ? State::kWaitingReceiver : State::kWaitingSender;
  }
  return Verdict::accept();
}

Verdict OnlineTask::on_pull_request(PullRequest& req, Clock::time_point now, TaskEffects& fx) {
  const char* refusal = nullptr;
  if (!is_receiver(req.conn) || req.user_id != info_.to_user_id) {
    refusal = "pull from a connection that is not the receiver";
  } else if (state_ != State::kTransferring) {
    refusal = "pull before both peers are ready";
  } else if (req.size == 0 || req.size > limits_.max_pull_size) {
    refusal = "pull size out of bounds";
  } else if (req.offset >= info_.file_size) {
    refusal = "pull offset past the end of the file";
  } else if (outstanding_.size() >= limits_.relay_window) {
    refusal = "too many pulls in flight";
  } else if (std::any_of(outstanding_.begin(), outstanding_.end(),
                         [&](const Outstanding& o) { return o.offset == req.offset; })) {
    refusal = "a pull for this offset is already in flight";
  }
  if (refusal != nullptr) {
    fx.send_pull_refusal(req.conn, req.seq, info_, req.user_id, req.offset);
    return refuse(req.conn, fx, refusal);
  }
  outstanding_.push_back({req.seq, req.offset, req.size});
  last_activity_ = now;
  fx.forward(sender_, std::move(req.pdu), req.seq);
  return Verdict::accept();
}

Verdict OnlineTask::on_pull_response(PullResponse& rsp, Clock::time_point now, TaskEffects& fx) {
  if (!is_sender(rsp.conn) || rsp.user_id != info_.from_user_id) {
    return refuse(rsp.conn, fx, "data from a connection that is not the sender");
  }
  if (state_ != State::kTransferring)
    return refuse(rsp.conn, fx, "data before both peers are ready");
  auto it = std::find_if(outstanding_.begin(), outstanding_.end(),
                         [&](const Outstanding& o) { return o.offset == rsp.offset; });
  if (it == outstanding_.end()) return refuse(rsp.conn, fx, "data that was not asked for");
  // Senders echo the seq_num of the pull they answer (each is forwarded with
  // the receiver's). One that names other pulls in flight, but not the one at
  // its offset, is labelled with the wrong offset: its bytes belong elsewhere
  // in the file. 0, and an old client's single seq_num, name none of them.
  if (rsp.seq != 0 && rsp.seq != it->seq &&
      std::any_of(outstanding_.begin(), outstanding_.end(),
                  [&](const Outstanding& o) { return o.seq == rsp.seq; })) {
    return refuse(rsp.conn, fx, "data labelled with another pull's offset");
  }
  const uint64_t expected = std::min<uint64_t>(it->size, info_.file_size - it->offset);
  if (rsp.result_code == 0 && rsp.data.size() != expected) {
    return refuse(rsp.conn, fx, "data of another size than asked for");
  }
  const uint16_t seq = it->seq;
  outstanding_.erase(it);
  last_activity_ = now;
  fx.forward(receiver_, std::move(rsp.data.block), seq);
  return Verdict::accept();
}

Verdict OnlineTask::on_state(StateReport& report, Clock::time_point now, TaskEffects& fx) {
  const bool from_sender = is_sender(report.conn);
  if (!from_sender && !is_receiver(report.conn)) {
    return refuse(report.conn, fx, "state from a connection that is not a peer");
  }
  if (report.user_id != (from_sender ? info_.from_user_id : info_.to_user_id)) {
    return refuse(report.conn, fx, "state for another user");
  }
  if (report.state == CLIENT_FILE_PEER_READY) {
    return refuse(report.conn, fx, "PEER_READY is the server's to send");
  }
  const ConnHandle other = from_sender ? receiver_ : sender_;
  if (other.valid()) fx.forward(other, std::move(report.pdu), report.seq);  // as it came
  last_activity_ = now;
  state_ = State::kEnded;
  fx.close(report.conn, "sent a final state");
  if (other.valid()) fx.close(other, "the peer ended the transfer");
  return Verdict::accept();
}

void OnlineTask::on_conn_closed(ConnHandle conn, Clock::time_point now, TaskEffects& fx) {
  const bool sender_left = is_sender(conn);
  if (!sender_left && !is_receiver(conn)) return;
  (sender_left ? sender_ : receiver_) = ConnHandle{};
  if (state_ == State::kEnded) return;
  const ConnHandle other = sender_left ? receiver_ : sender_;
  if (other.valid()) {
    fx.send_state(other, info_, CLIENT_FILE_CANCEL,
                  sender_left ? info_.from_user_id : info_.to_user_id);
    fx.close(other, "the peer disconnected");
  }
  last_activity_ = now;
  state_ = State::kEnded;
}

Verdict OnlineTask::on_store_done(const StoreDone&, Clock::time_point, TaskEffects&) {
  return Verdict::refuse("an online task stores nothing");
}

void OnlineTask::on_tick(Clock::time_point now, TaskEffects& fx) {
  if (state_ == State::kEnded) return;
  const auto limit = state_ == State::kTransferring ? limits_.stall_timeout : limits_.task_timeout;
  if (now - last_activity_ < limit) return;
  // Each peer still here is told that the other side gave up.
  if (sender_.valid()) {
    fx.send_state(sender_, info_, CLIENT_FILE_CANCEL, info_.to_user_id);
    fx.close(sender_, "online task timed out");
  }
  if (receiver_.valid()) {
    fx.send_state(receiver_, info_, CLIENT_FILE_CANCEL, info_.from_user_id);
    fx.close(receiver_, "online task timed out");
  }
  state_ = State::kEnded;
}

bool OnlineTask::finished() const { return state_ == State::kEnded; }

}  // namespace ttfs::transfer
