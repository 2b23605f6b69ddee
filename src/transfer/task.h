#pragma once

#include <chrono>

#include "transfer/events.h"
#include "transfer/task_effects.h"
#include "transfer/task_info.h"
#include "transfer/transfer_limits.h"

namespace ttfs::transfer {

using Clock = std::chrono::steady_clock;

// The outcome of one event: accepted, or the reason it was refused. A
// refused event has already been answered (a refusal, a close) through the
// effects; the reason is for the log and the tests.
struct Verdict {
  const char* refusal = nullptr;
  bool ok() const { return refusal == nullptr; }
  static Verdict accept() { return {}; }
  static Verdict refuse(const char* why) { return {why}; }
};

// A transfer task's state machine. It owns no I/O: every decision goes out
// through TaskEffects. One worker thread owns each task.
class Task {
 public:
  Task(TaskInfo info, const TransferLimits& limits, Clock::time_point now)
      : info_(std::move(info)), limits_(limits), last_activity_(now) {}
  virtual ~Task() = default;
  Task(const Task&) = delete;
  Task& operator=(const Task&) = delete;

  const TaskInfo& info() const { return info_; }

  virtual Verdict on_login(const Login& login, Clock::time_point now, TaskEffects& fx) = 0;
  virtual Verdict on_pull_request(PullRequest& req, Clock::time_point now, TaskEffects& fx) = 0;
  virtual Verdict on_pull_response(PullResponse& rsp, Clock::time_point now, TaskEffects& fx) = 0;
  virtual Verdict on_state(StateReport& report, Clock::time_point now, TaskEffects& fx) = 0;
  virtual void on_conn_closed(ConnHandle conn, Clock::time_point now, TaskEffects& fx) = 0;
  virtual Verdict on_store_done(const StoreDone& done, Clock::time_point now, TaskEffects& fx) = 0;
  // Timers: ends what has waited too long.
  virtual void on_tick(Clock::time_point now, TaskEffects& fx) = 0;
  // True once the task has nothing left to do and can be forgotten.
  virtual bool finished() const = 0;
  // True while a connected peer is moving data through the task (or waits
  // for the DONE its data has earned): what a graceful shutdown waits for. A
  // task nobody is connected to, or whose peer waits for a peer that is not
  // there, is not.
  virtual bool transferring() const = 0;

 protected:
  TaskInfo info_;
  const TransferLimits& limits_;
  Clock::time_point last_activity_;
};

}  // namespace ttfs::transfer
