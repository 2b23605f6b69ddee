#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/log_throttle.h"
#include "net/io_thread.h"
#include "storage/disk_completion.h"
#include "storage/offline_store.h"
#include "transfer/events.h"
#include "transfer/segment_read_ahead.h"
#include "transfer/task.h"
#include "transfer/task_effects.h"
#include "transfer/task_quota.h"
#include "transfer/transfer_limits.h"

namespace ttfs::transfer {

struct WorkerStats {
  std::atomic<uint64_t> tasks_created{0};
  std::atomic<uint64_t> tasks_live{0};
  // Tasks a connected peer is moving data through (Task::transferring()),
  // published once a batch's replies are on their way to the IO threads: a
  // reader that sees 0 knows that every reply which ended a transfer has
  // been posted.
  std::atomic<uint64_t> transfers_in_flight{0};
  std::atomic<uint64_t> refusals{0};
  // FILE_TRANSFER_REQs refused, by the bound they were over (also in refusals).
  std::atomic<uint64_t> tasks_refused_over_total{0};
  std::atomic<uint64_t> tasks_refused_over_per_user{0};
  std::atomic<uint64_t> tasks_refused_file_size{0};
  std::atomic<uint64_t> segments_stored{0};
  std::atomic<uint64_t> segments_served{0};
  std::atomic<uint64_t> segments_relayed{0};
  std::atomic<uint64_t> uploads_completed{0};
};

// Owns the tasks of one shard outright: only this thread touches them, so
// nothing on the per-segment path takes a lock. It drains its queue in bulk,
// lets each task decide, and sends the replies of a whole batch to each IO
// thread at once (one wake-up per IO thread per batch).
class Worker final : private TaskEffects {
 public:
  using Queue = moodycamel::BlockingConcurrentQueue<WorkerEvent>;

  // `quota` is shared by every worker of the server and outlives them.
  Worker(uint32_t index, const TransferLimits& limits, TaskQuota& quota,
         storage::OfflineStore& store);
  ~Worker() override;
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // The IO threads replies go to, indexed by ConnHandle::thread; before start().
  void set_io_threads(std::vector<net::IoThread*> io_threads);
  void start();
  // Handles everything already queued, then joins.
  void stop();
  // Thread-safe: from now on, new tasks are refused as a full server refuses
  // them (a graceful shutdown is under way); logins to existing tasks are
  // still served.
  void refuse_new_tasks() { refusing_new_tasks_.store(true, std::memory_order_relaxed); }

  Queue& queue() { return queue_; }
  // Called on the disk-writer thread: hands its completions over.
  void post_store_completions(std::vector<storage::DiskCompletion>&& completions);
  const WorkerStats& stats() const { return stats_; }

 private:
  // A task, and whether it is counted in transferring_.
  struct LiveTask {
    std::unique_ptr<Task> task;
    bool counted_transferring = false;
  };

  void run();
  void handle(WorkerEvent& event, Clock::time_point now);
  void handle_create(CreateTask& create, Clock::time_point now);
  void handle_login(Login& login, Clock::time_point now);
  // A task the store still knows for a login the workers do not: a partial
  // upload to resume, or a complete file. nullptr if there is none.
  std::unique_ptr<Task> restore_from_store(const Login& login, Clock::time_point now);
  LiveTask* adopt(const TaskId& id, std::unique_ptr<Task> task);
  LiveTask* find_task(const TaskId& id);
  void after_event(LiveTask& live, const Verdict& verdict);
  // Brings transferring_ up to date with the task's transferring().
  void recount_transferring(LiveTask& live);
  void tick(Clock::time_point now);
  void forget(const TaskId& id);
  void flush_outboxes();
  void post(ConnHandle to, Bytes pdu, net::OutboundAction action = net::OutboundAction::kSend);

  // TaskEffects: the tasks' decisions, carried out.
  void send_login_rsp(ConnHandle to, uint16_t seq, const TaskInfo& task, bool ok) override;
  void send_pull_req(ConnHandle to, uint16_t seq, const TaskInfo& task, uint64_t offset,
                     uint32_t size) override;
  void send_state(ConnHandle to, const TaskInfo& task, FileState state, uint32_t user_id) override;
  void forward(ConnHandle to, Bytes pdu, uint16_t seq) override;
  bool send_segment(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                    uint64_t offset, uint32_t size) override;
  void send_pull_refusal(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                         uint64_t offset) override;
  void close(ConnHandle conn, const char* why) override;
  void store_begin(const TaskInfo& task, uint64_t resume_from) override;
  void store_write(const TaskInfo& task, uint64_t offset, Payload data) override;
  void store_finalize(const TaskInfo& task) override;
  void store_abort(const TaskInfo& task) override;
  uint32_t upload_window(uint32_t configured) const override;
  // Segments one download reads at once.
  uint32_t read_ahead_depth() const;

  const uint32_t index_;
  const TransferLimits& limits_;
  TaskQuota& quota_;  // every task in tasks_ holds a place in it
  LogThrottle refusal_log_;
  storage::OfflineStore& store_;
  std::vector<net::IoThread*> io_threads_;
  std::vector<std::vector<net::OutboundMessage>> outboxes_;  // one per IO thread

  Queue queue_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> refusing_new_tasks_{false};
  std::thread thread_;

  std::unordered_map<TaskId, LiveTask> tasks_;
  uint64_t transferring_ = 0;  // stats_.transfers_in_flight, before publication
  // Stored files being served, until drained, unreadable, or their task ends.
  std::unordered_map<TaskId, SegmentReadAhead> downloads_;
  WorkerStats stats_;
};

}  // namespace ttfs::transfer
