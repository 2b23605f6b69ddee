#include "transfer/worker.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "transfer/flow_shares.h"
#include "transfer/offline_task.h"
#include "transfer/online_task.h"

namespace ttfs::transfer {

namespace {

constexpr size_t kBatch = 256;
constexpr auto kTickInterval = std::chrono::seconds(1);

storage::FileMeta to_meta(const TaskInfo& task, bool complete) {
  storage::FileMeta meta;
  meta.task_id = task.id;
  meta.from_user_id = task.from_user_id;
  meta.to_user_id = task.to_user_id;
  meta.file_name = task.file_name;
  meta.file_size = task.file_size;
  meta.created_at_unix = task.created_at_unix;
  meta.complete = complete;
  return meta;
}

TaskInfo from_meta(const storage::FileMeta& meta) {
  TaskInfo task;
  task.id = meta.task_id;
  task.id_text = meta.task_id.str();
  task.from_user_id = meta.from_user_id;
  task.to_user_id = meta.to_user_id;
  task.file_name = meta.file_name;
  task.file_size = meta.file_size;
  task.mode = IM::BaseDefine::FILE_TYPE_OFFLINE;
  task.created_at_unix = meta.created_at_unix;
  return task;
}

StoreDone::Kind to_kind(storage::DiskCompletion::Kind kind) {
  switch (kind) {
    case storage::DiskCompletion::Kind::kBegun: return StoreDone::Kind::kBegun;
    case storage::DiskCompletion::Kind::kWritten: return StoreDone::Kind::kWritten;
    case storage::DiskCompletion::Kind::kFinalized: return StoreDone::Kind::kFinalized;
    case storage::DiskCompletion::Kind::kAborted: return StoreDone::Kind::kAborted;
  }
  return StoreDone::Kind::kWritten;
}

}  // namespace

Worker::Worker(uint32_t index, const TransferLimits& limits, TaskQuota& quota,
               storage::OfflineStore& store)
    : index_(index), limits_(limits), quota_(quota), store_(store) {}

void Worker::set_io_threads(std::vector<net::IoThread*> io_threads) {
  io_threads_ = std::move(io_threads);
  outboxes_.clear();
  outboxes_.resize(io_threads_.size());
}

Worker::~Worker() { stop(); }

void Worker::start() {
  thread_ = std::thread([this] { run(); });
}

void Worker::stop() {
  if (!thread_.joinable()) return;
  stopping_.store(true, std::memory_order_release);
  queue_.enqueue(ConnClosed{});  // wakes the thread if it is waiting
  thread_.join();
}

void Worker::post_store_completions(std::vector<storage::DiskCompletion>&& completions) {
  std::vector<WorkerEvent> events;
  events.reserve(completions.size());
  for (const auto& c : completions) {
    events.emplace_back(StoreDone{to_kind(c.kind), c.task_id, c.offset, c.length, c.error});
  }
  queue_.enqueue_bulk(std::make_move_iterator(events.begin()), events.size());
}

void Worker::run() {
  moodycamel::ConsumerToken token(queue_);
  std::vector<WorkerEvent> batch(kBatch);
  auto next_tick = Clock::now() + kTickInterval;
  for (;;) {
    const size_t n = queue_.wait_dequeue_bulk_timed(token, batch.begin(), kBatch,
                                                    std::chrono::milliseconds(200));
    const auto now = Clock::now();
    for (size_t i = 0; i < n; ++i) {
      handle(batch[i], now);
      batch[i] = WorkerEvent{};
    }
    if (now >= next_tick) {
      tick(now);
      next_tick = now + kTickInterval;
    }
    flush_outboxes();
    // Published after the flush: see WorkerStats::transfers_in_flight.
    stats_.transfers_in_flight.store(transferring_, std::memory_order_release);
    // Stopping: whatever was queued before stop() has been handled once a
    // batch comes back short.
    if (n < kBatch && stopping_.load(std::memory_order_acquire)) break;
  }
}

void Worker::handle(WorkerEvent& event, Clock::time_point now) {
  std::visit(
      [&](auto& e) {
        using E = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<E, CreateTask>) {
          handle_create(e, now);
        } else if constexpr (std::is_same_v<E, Login>) {
          handle_login(e, now);
        } else {
          LiveTask* live = find_task(e.task);
          Task* task = live != nullptr ? live->task.get() : nullptr;
          if constexpr (std::is_same_v<E, PullRequest>) {
            if (task == nullptr) {
              // No such task (expired, finished, or never made): refuse.
              TaskInfo unknown;
              unknown.id_text = e.task.str();
              send_pull_refusal(e.conn, e.seq, unknown, e.user_id, e.offset);
              close(e.conn, "pull for an unknown task");
              stats_.refusals.fetch_add(1, std::memory_order_relaxed);
              return;
            }
            after_event(*live, task->on_pull_request(e, now, *this));
          } else if constexpr (std::is_same_v<E, PullResponse>) {
            if (task == nullptr) return close(e.conn, "data for an unknown task");
            after_event(*live, task->on_pull_response(e, now, *this));
          } else if constexpr (std::is_same_v<E, StateReport>) {
            if (task == nullptr) return close(e.conn, "state for an unknown task");
            after_event(*live, task->on_state(e, now, *this));
          } else if constexpr (std::is_same_v<E, ConnClosed>) {
            if (task == nullptr) return;
            task->on_conn_closed(e.conn, now, *this);
            after_event(*live, Verdict::accept());
          } else if constexpr (std::is_same_v<E, StoreDone>) {
            if (task == nullptr) return;
            if (e.kind == StoreDone::Kind::kWritten && e.error == 0) {
              stats_.segments_stored.fetch_add(1, std::memory_order_relaxed);
            } else if (e.kind == StoreDone::Kind::kFinalized && e.error == 0) {
              stats_.uploads_completed.fetch_add(1, std::memory_order_relaxed);
            }
            after_event(*live, task->on_store_done(e, now, *this));
          }
        }
      },
      event);
}

Worker::LiveTask* Worker::find_task(const TaskId& id) {
  auto it = tasks_.find(id);
  return it == tasks_.end() ? nullptr : &it->second;
}

void Worker::after_event(LiveTask& live, const Verdict& verdict) {
  const Task& task = *live.task;
  if (!verdict.ok()) {
    stats_.refusals.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("task {}: refused: {}", task.info().id_text, verdict.refusal);
  }
  if (task.finished()) {
    forget(task.info().id);
  } else {
    recount_transferring(live);
  }
}

void Worker::recount_transferring(LiveTask& live) {
  const bool transferring = live.task->transferring();
  if (transferring == live.counted_transferring) return;
  live.counted_transferring = transferring;
  if (transferring) {
    ++transferring_;
  } else {
    --transferring_;
  }
}

void Worker::forget(const TaskId& id) {
  downloads_.erase(id);
  const auto it = tasks_.find(id);
  if (it == tasks_.end()) return;
  if (it->second.counted_transferring) --transferring_;
  // The one way out of tasks_, whether the task finished, failed, expired
  // or was cancelled: its place in the quota goes with it.
  quota_.release(it->second.task->info().from_user_id);
  tasks_.erase(it);
  stats_.tasks_live.fetch_sub(1, std::memory_order_relaxed);
}

void Worker::handle_create(CreateTask& create, Clock::time_point now) {
  IM::Server::IMFileTransferRsp rsp;
  rsp.set_from_user_id(create.info.from_user_id);
  rsp.set_to_user_id(create.info.to_user_id);
  rsp.set_file_name(create.info.file_name);
  rsp.set_file_size(static_cast<uint32_t>(create.info.file_size));
  rsp.set_trans_mode(create.info.mode);
  // Always present, as the original sends it: msg_server routes the reply by it.
  rsp.set_attach_data(create.attach_data);

  const char* refusal = nullptr;
  if (create.info.file_size > limits_.max_file_size) {
    refusal = "the file is larger than MaxFileSize";
    stats_.tasks_refused_file_size.fetch_add(1, std::memory_order_relaxed);
  } else if (refusing_new_tasks_.load(std::memory_order_relaxed)) {
    // No connection could be made to start it, and a task not yet begun
    // does not survive the restart.
    refusal = "the server is shutting down";
  } else {
    // Last, so that a place is taken only for a task that is made.
    switch (quota_.try_acquire(create.info.from_user_id)) {
      case TaskQuota::Refusal::kNone: break;
      case TaskQuota::Refusal::kOverTotal:
        refusal = "MaxTasks tasks are live";
        stats_.tasks_refused_over_total.fetch_add(1, std::memory_order_relaxed);
        break;
      case TaskQuota::Refusal::kOverPerUser:
        refusal = "the sender has MaxTasksPerUser tasks live";
        stats_.tasks_refused_over_per_user.fetch_add(1, std::memory_order_relaxed);
        break;
    }
  }
  if (refusal != nullptr) {
    uint64_t held_back = 0;
    if (refusal_log_.allow(LogThrottle::Clock::now(), held_back)) {
      spdlog::warn(
          "refusing a transfer of '{}' from {} to {}: {} ({} more refused since the last "
          "line)",
          create.info.file_name, create.info.from_user_id, create.info.to_user_id, refusal,
          held_back);
    }
    stats_.refusals.fetch_add(1, std::memory_order_relaxed);
    rsp.set_result_code(1);
    rsp.set_task_id("");
    post(create.conn, net::encode_pdu(net::kSidOther, net::kCidFileTransferRsp, create.seq, rsp));
    return;
  }
  rsp.set_result_code(0);
  rsp.set_task_id(create.info.id_text);
  spdlog::info("task {}: created, {} '{}' ({} bytes) from {} to {}", create.info.id_text,
               create.info.mode == IM::BaseDefine::FILE_TYPE_ONLINE ? "online" : "offline",
               create.info.file_name, create.info.file_size, create.info.from_user_id,
               create.info.to_user_id);
  const TaskId id = create.info.id;
  std::unique_ptr<Task> task;
  if (create.info.mode == IM::BaseDefine::FILE_TYPE_ONLINE) {
    task = std::make_unique<OnlineTask>(std::move(create.info), limits_, now);
  } else {
    task = std::make_unique<OfflineTask>(std::move(create.info), limits_, now);
  }
  adopt(id, std::move(task));
  stats_.tasks_created.fetch_add(1, std::memory_order_relaxed);
  post(create.conn, net::encode_pdu(net::kSidOther, net::kCidFileTransferRsp, create.seq, rsp));
}

Worker::LiveTask* Worker::adopt(const TaskId& id, std::unique_ptr<Task> task) {
  LiveTask& live = tasks_.emplace(id, LiveTask{std::move(task)}).first->second;
  stats_.tasks_live.fetch_add(1, std::memory_order_relaxed);
  return &live;
}

std::unique_ptr<Task> Worker::restore_from_store(const Login& login, Clock::time_point now) {
  if (login.role == IM::BaseDefine::CLIENT_OFFLINE_UPLOAD) {
    if (auto partial = store_.lookup_partial(login.task)) {
      // An upload a restart cut short: its sender resumes after what a
      // checkpoint made durable.
      spdlog::info("task {}: resuming an upload from before the restart at byte {}",
                   login.task.str(), partial->durable_bytes);
      return OfflineTask::resumed(from_meta(*partial), partial->durable_bytes, limits_, now);
    }
  } else if (login.role != IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD) {
    return nullptr;
  }
  // A stored file whose task was forgotten or survived a restart; a sender
  // that comes back to it (its DONE lost to a restart) is told DONE.
  if (auto complete = store_.lookup_complete(login.task)) {
    return OfflineTask::stored(from_meta(*complete), limits_, now);
  }
  return nullptr;
}

void Worker::handle_login(Login& login, Clock::time_point now) {
  LiveTask* live = find_task(login.task);
  if (live == nullptr) {
    if (auto restored = restore_from_store(login, now)) {
      quota_.acquire(restored->info().from_user_id);
      live = adopt(login.task, std::move(restored));
    }
  }
  if (live == nullptr) {
    TaskInfo unknown;
    unknown.id_text = login.task.str();
    send_login_rsp(login.conn, login.seq, unknown, false);
    close(login.conn, "login to an unknown task");
    stats_.refusals.fetch_add(1, std::memory_order_relaxed);
    spdlog::info("task {}: login by user {} refused: no such task", unknown.id_text, login.user_id);
    return;
  }
  after_event(*live, live->task->on_login(login, now, *this));
}

void Worker::tick(Clock::time_point now) {
  std::vector<TaskId> done;
  for (auto& [id, live] : tasks_) {
    live.task->on_tick(now, *this);
    if (live.task->finished()) {
      done.push_back(id);
    } else {
      recount_transferring(live);
    }
  }
  for (const TaskId& id : done) forget(id);
}

void Worker::post(ConnHandle to, Bytes pdu, net::OutboundAction action) {
  if (to.thread >= outboxes_.size()) return;
  // A PULL_DATA_RSP to a connection answers one of its PULL_DATA_REQs (a
  // download's, or a receiver's relayed one), and a FILE_TRANSFER_RSP one
  // FILE_TRANSFER_REQ, which its IO thread counted.
  const uint16_t command =
      pdu.size() >= net::kPduHeaderSize ? net::read_header(pdu.data()).command_id : 0;
  const bool answers_request =
      command == net::kCidFilePullDataRsp || command == net::kCidFileTransferRsp;
  outboxes_[to.thread].push_back({to, action, std::move(pdu), answers_request});
}

void Worker::flush_outboxes() {
  for (size_t i = 0; i < outboxes_.size(); ++i) {
    if (!outboxes_[i].empty()) io_threads_[i]->post(outboxes_[i]);
  }
}

void Worker::send_login_rsp(ConnHandle to, uint16_t seq, const TaskInfo& task, bool ok) {
  IM::File::IMFileLoginRsp rsp;
  rsp.set_result_code(ok ? 0 : 1);
  rsp.set_task_id(task.id_text);
  post(to, net::encode_pdu(net::kSidFile, net::kCidFileLoginRsp, seq, rsp));
}

void Worker::send_pull_req(ConnHandle to, uint16_t seq, const TaskInfo& task, uint64_t offset,
                           uint32_t size) {
  IM::File::IMFilePullDataReq req;
  req.set_task_id(task.id_text);
  req.set_user_id(task.from_user_id);
  req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  req.set_offset(static_cast<uint32_t>(offset));
  req.set_data_size(size);
  post(to, net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, seq, req));
}

void Worker::send_state(ConnHandle to, const TaskInfo& task, FileState state, uint32_t user_id) {
  IM::File::IMFileState msg;
  msg.set_state(state);
  msg.set_task_id(task.id_text);
  msg.set_user_id(user_id);
  post(to, net::encode_pdu(net::kSidFile, net::kCidFileState, 0, msg));
}

void Worker::forward(ConnHandle to, Bytes pdu, uint16_t seq) {
  net::patch_seq_num(pdu.data(), seq);
  if (net::read_header(pdu.data()).command_id == net::kCidFilePullDataRsp) {
    stats_.segments_relayed.fetch_add(1, std::memory_order_relaxed);
  }
  post(to, std::move(pdu));
}

bool Worker::send_segment(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                          uint64_t offset, uint32_t size) {
  auto it = downloads_.find(task.id);
  if (it == downloads_.end()) {
    auto reader = store_.open_reader(task.id);
    if (!reader) return false;
    it = downloads_.emplace(task.id, SegmentReadAhead(std::move(reader))).first;
  }
  Bytes rsp;
  const int error =
      it->second.take(seq, task.id_text, user_id, offset, size, read_ahead_depth(), &rsp);
  if (error != 0) {
    spdlog::error("task {}: reading {} bytes at {}: {}", task.id_text, size, offset,
                  std::strerror(error));
    downloads_.erase(it);
    return false;
  }
  // A finished download stops counting against the others' read-ahead.
  if (it->second.drained()) downloads_.erase(it);
  stats_.segments_served.fetch_add(1, std::memory_order_relaxed);
  post(to, std::move(rsp));
  return true;
}

void Worker::send_pull_refusal(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                               uint64_t offset) {
  auto rsp =
      net::build_pull_data_rsp(seq, 1, task.id_text, user_id, static_cast<uint32_t>(offset), 0);
  post(to, std::move(rsp.pdu));
}

void Worker::close(ConnHandle conn, const char* why) {
  spdlog::debug("closing a connection: {}", why);
  post(conn, Bytes(), net::OutboundAction::kClose);
}

void Worker::store_begin(const TaskInfo& task, uint64_t resume_from) {
  storage::FileMeta meta = to_meta(task, false);
  meta.durable_bytes = resume_from;
  store_.begin_upload(index_, meta);
}

void Worker::store_write(const TaskInfo& task, uint64_t offset, Payload data) {
  store_.write_segment(index_, task.id, offset, std::move(data));
}

void Worker::store_finalize(const TaskInfo& task) {
  spdlog::debug("task {}: all {} bytes received; making them durable", task.id_text,
                task.file_size);
  store_.finalize_upload(index_, to_meta(task, true));
}

uint32_t Worker::upload_window(uint32_t configured) const {
  return upload_window_share(configured, transferring_);
}

uint32_t Worker::read_ahead_depth() const { return read_ahead_depth_share(downloads_.size()); }

void Worker::store_abort(const TaskInfo& task) {
  spdlog::info("task {}: discarding the partial upload", task.id_text);
  store_.abort_upload(index_, task.id);
}

}  // namespace ttfs::transfer
