#include "transfer/offline_task.h"

#include <algorithm>
#include <cerrno>

namespace ttfs::transfer {

using IM::BaseDefine::CLIENT_FILE_CANCEL;
using IM::BaseDefine::CLIENT_FILE_DONE;
using IM::BaseDefine::CLIENT_FILE_PEER_READY;
using IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD;
using IM::BaseDefine::CLIENT_OFFLINE_UPLOAD;
using IM::BaseDefine::FILE_TYPE_OFFLINE;

OfflineTask::OfflineTask(TaskInfo info, const TransferLimits& limits, Clock::time_point now)
    : Task(std::move(info), limits, now),
      grid_(info_.file_size, limits.segment_size),
      segments_(grid_.count(), Segment::kMissing) {}

std::unique_ptr<OfflineTask> OfflineTask::stored(TaskInfo info, const TransferLimits& limits,
                                                 Clock::time_point now) {
  auto task = std::make_unique<OfflineTask>(std::move(info), limits, now);
  task->state_ = State::kComplete;
  task->store_begun_ = true;
  task->written_ = task->grid_.count();
  task->segments_.clear();
  return task;
}

std::unique_ptr<OfflineTask> OfflineTask::resumed(TaskInfo info, uint64_t durable_bytes,
                                                  const TransferLimits& limits,
                                                  Clock::time_point now) {
  auto task = std::make_unique<OfflineTask>(std::move(info), limits, now);
  for (uint64_t i = 0; i < task->grid_.count(); ++i) {
    if (task->grid_.offset_of(i) + task->grid_.size_of(i) > durable_bytes) break;
    task->segments_[i] = Segment::kWritten;
    ++task->written_;
    task->resume_from_ = task->grid_.offset_of(i) + task->grid_.size_of(i);
  }
  return task;
}

Verdict OfflineTask::refuse_login(const Login& login, TaskEffects& fx, const char* why) {
  fx.send_login_rsp(login.conn, login.seq, info_, false);
  fx.close(login.conn, why);
  return Verdict::refuse(why);
}

Verdict OfflineTask::on_login(const Login& login, Clock::time_point now, TaskEffects& fx) {
  Verdict verdict;
  if (login.role == CLIENT_OFFLINE_UPLOAD) {
    verdict = login_upload(login, fx);
  } else if (login.role == CLIENT_OFFLINE_DOWNLOAD) {
    verdict = login_download(login, fx);
  } else {
    verdict = refuse_login(login, fx, "an online role on an offline task");
  }
  if (verdict.ok()) last_activity_ = now;
  return verdict;
}

Verdict OfflineTask::login_upload(const Login& login, TaskEffects& fx) {
  if (login.user_id != info_.from_user_id) {
    return refuse_login(login, fx, "user is not the task's sender");
  }
  switch (state_) {
    case State::kWaitingUpload: break;
    case State::kUploading:
      // The sender is back on a new connection, and the close of its old one
      // may still be on its way from another IO thread (events of different
      // connections are not ordered): the newer login takes over.
      fx.close(uploader_, "replaced by the sender's new connection");
      lose_uploader();
      break;
    case State::kFinalizing:
      if (uploader_.valid()) fx.close(uploader_, "replaced by the sender's new connection");
      // A sender that lost its connection after its last answer comes back
      // to learn the outcome: it is told DONE once the file is durable.
      uploader_ = login.conn;
      fx.send_login_rsp(login.conn, login.seq, info_, true);
      return Verdict::accept();
    case State::kComplete:
      fx.send_login_rsp(login.conn, login.seq, info_, true);
      fx.send_state(login.conn, info_, CLIENT_FILE_DONE, info_.from_user_id);
      fx.close(login.conn, "the file is already uploaded");
      return Verdict::accept();
    case State::kFailed: return refuse_login(login, fx, "the upload has failed");
  }
  uploader_ = login.conn;
  state_ = State::kUploading;
  fx.send_login_rsp(login.conn, login.seq, info_, true);
  if (!store_begun_) {
    fx.store_begin(info_, resume_from_);
    store_begun_ = true;
  }
  if (written_ == grid_.count()) {
    // Nothing to ask for: a zero-byte file, or a resumed upload whose
    // durable prefix is the whole file (a checkpoint between its last write
    // and its finalize), which no write completion will ever finalize.
    finalize(fx);
  } else {
    fill_window(fx);
  }
  return Verdict::accept();
}

Verdict OfflineTask::login_download(const Login& login, TaskEffects& fx) {
  if (login.user_id != info_.to_user_id) {
    return refuse_login(login, fx, "user is not the task's receiver");
  }
  if (state_ != State::kComplete) return refuse_login(login, fx, "the file is not uploaded yet");
  fx.send_login_rsp(login.conn, login.seq, info_, true);
  if (grid_.count() == 0) {
    fx.send_state(login.conn, info_, CLIENT_FILE_DONE, info_.from_user_id);
    fx.close(login.conn, "download of an empty file done");
    return Verdict::accept();
  }
  downloads_.push_back({login.conn, std::vector<bool>(grid_.count()), grid_.count()});
  return Verdict::accept();
}

void OfflineTask::fill_window(TaskEffects& fx) {
  const uint32_t window = fx.upload_window(limits_.upload_window);
  while (uploader_.valid() && in_flight() < window && next_missing_ < segments_.size()) {
    if (segments_[next_missing_] != Segment::kMissing) {
      ++next_missing_;
      continue;
    }
    segments_[next_missing_] = Segment::kRequested;
    if (next_seq_ == 0) next_seq_ = 1;  // 0 is what seq-less clients echo
    requests_.push_back({next_missing_, next_seq_});
    fx.send_pull_req(uploader_, next_seq_++, info_, grid_.offset_of(next_missing_),
                     grid_.size_of(next_missing_));
    ++next_missing_;
  }
}

void OfflineTask::lose_uploader() {
  uploader_ = ConnHandle{};
  release_requests();
  if (state_ == State::kUploading) state_ = State::kWaitingUpload;
}

void OfflineTask::release_requests() {
  for (const Request& r : requests_) {
    segments_[r.index] = Segment::kMissing;
    next_missing_ = std::min(next_missing_, r.index);
  }
  requests_.clear();
}

void OfflineTask::finalize(TaskEffects& fx) {
  state_ = State::kFinalizing;
  fx.store_finalize(info_);
}

const char* OfflineTask::store_failure(int error) {
  // Static text, as refusals are; the cases an operator acts on get their own.
  switch (error) {
    case ENOSPC:
    case EDQUOT: return "the store is full (ENOSPC or quota): upload cancelled";
    case EIO: return "the store's disk failed (EIO): upload cancelled";
    case EROFS: return "the store is read-only (EROFS): upload cancelled";
    default: return "the store failed: upload cancelled";
  }
}

void OfflineTask::fail(TaskEffects& fx, const char* why) {
  state_ = State::kFailed;
  if (uploader_.valid()) {
    fx.send_state(uploader_, info_, CLIENT_FILE_CANCEL, info_.from_user_id);
    fx.close(uploader_, why);
    uploader_ = ConnHandle{};
  }
  if (store_begun_) fx.store_abort(info_);
}

Verdict OfflineTask::on_pull_response(PullResponse& rsp, Clock::time_point now, TaskEffects& fx) {
  if (!uploader_.valid() || rsp.conn != uploader_) {
    fx.close(rsp.conn, "data from a connection that is not the uploader");
    return Verdict::refuse("data from a connection that is not the uploader");
  }
  const bool on_grid = grid_.is_segment_start(rsp.offset);
  const uint64_t index = grid_.index_of(rsp.offset);
  const auto request = std::find_if(requests_.begin(), requests_.end(),
                                    [&](const Request& r) { return on_grid && r.index == index; });
  // Clients echo the seq_num of the request they answer. A reply whose
  // seq_num is that of another request in flight is labelled with the wrong
  // offset: its bytes belong elsewhere in the file.
  // TeamTalk's own clients send seq_num 0 throughout, which names nothing.
  const bool seq_of_another =
      rsp.seq != 0 && std::any_of(requests_.begin(), requests_.end(), [&](const Request& r) {
        return r.seq == rsp.seq && (request == requests_.end() || r.index != request->index);
      });
  const char* refusal = nullptr;
  if (rsp.user_id != info_.from_user_id) {
    refusal = "data for another user";
  } else if (rsp.result_code != 0) {
    refusal = "the sender could not read its file";
  } else if (request == requests_.end()) {
    refusal = "data that was not asked for";
  } else if (seq_of_another) {
    refusal = "data labelled with another request's offset";
  } else if (rsp.data.size() != grid_.size_of(request->index)) {
    refusal = "data of another size than asked for";
  }
  if (refusal != nullptr) {
    // Nothing of it is stored; the upload waits for the sender to come back
    // (unless every segment is already in, and the finalize goes on).
    fx.close(uploader_, refusal);
    lose_uploader();
    return Verdict::refuse(refusal);
  }
  segments_[request->index] = Segment::kWriting;
  requests_.erase(request);
  ++writing_;
  last_activity_ = now;
  fx.store_write(info_, rsp.offset, std::move(rsp.data));
  return Verdict::accept();
}

Verdict OfflineTask::on_store_done(const StoreDone& done, Clock::time_point now, TaskEffects& fx) {
  if (state_ == State::kFailed) return Verdict::accept();  // an abort is on its way
  if (done.error != 0) {
    const char* why = store_failure(done.error);
    fail(fx, why);
    return Verdict::refuse(why);
  }
  switch (done.kind) {
    case StoreDone::Kind::kBegun:
    case StoreDone::Kind::kAborted: return Verdict::accept();
    case StoreDone::Kind::kWritten: {
      if (state_ != State::kUploading && state_ != State::kWaitingUpload) {
        return Verdict::refuse("a write completion outside an upload");
      }
      const uint64_t end = done.offset + done.length;
      for (uint64_t i = grid_.index_of(done.offset);
           i < segments_.size() && grid_.offset_of(i) < end; ++i) {
        if (segments_[i] != Segment::kWriting) continue;
        segments_[i] = Segment::kWritten;
        --writing_;
        ++written_;
      }
      last_activity_ = now;
      if (written_ == grid_.count()) {
        finalize(fx);
      } else {
        fill_window(fx);
      }
      return Verdict::accept();
    }
    case StoreDone::Kind::kFinalized:
      if (state_ != State::kFinalizing) return Verdict::refuse("a finalize nobody asked for");
      state_ = State::kComplete;
      last_activity_ = now;
      segments_.clear();
      segments_.shrink_to_fit();
      if (uploader_.valid()) {
        fx.send_state(uploader_, info_, CLIENT_FILE_DONE, info_.from_user_id);
        fx.close(uploader_, "upload done");
        uploader_ = ConnHandle{};
      }
      return Verdict::accept();
  }
  return Verdict::refuse("unknown store completion");
}

OfflineTask::Download* OfflineTask::find_download(ConnHandle conn) {
  for (Download& d : downloads_) {
    if (d.conn == conn) return &d;
  }
  return nullptr;
}

void OfflineTask::erase_download(ConnHandle conn) {
  std::erase_if(downloads_, [&](const Download& d) { return d.conn == conn; });
}

Verdict OfflineTask::on_pull_request(PullRequest& req, Clock::time_point now, TaskEffects& fx) {
  Download* download = find_download(req.conn);
  const char* refusal = nullptr;
  if (download == nullptr || req.user_id != info_.to_user_id) {
    refusal = "pull from a connection that is not a receiver";
  } else if (req.mode != FILE_TYPE_OFFLINE) {
    refusal = "an online pull on an offline task";
  } else if (req.size == 0 || req.size > limits_.max_pull_size) {
    refusal = "pull size out of bounds";
  } else if (!grid_.is_segment_start(req.offset)) {
    refusal = "pull offset not on the segment grid";
  }
  const uint32_t size =
      static_cast<uint32_t>(std::min<uint64_t>(req.size, info_.file_size - req.offset));
  if (refusal == nullptr &&
      !fx.send_segment(req.conn, req.seq, info_, req.user_id, req.offset, size)) {
    refusal = "the stored file cannot be read";
  }
  if (refusal != nullptr) {
    fx.send_pull_refusal(req.conn, req.seq, info_, req.user_id, req.offset);
    fx.close(req.conn, refusal);
    erase_download(req.conn);
    return Verdict::refuse(refusal);
  }
  last_activity_ = now;
  const uint64_t end = uint64_t{req.offset} + size;
  for (uint64_t i = grid_.index_of(req.offset); i < grid_.count(); ++i) {
    const uint64_t segment_end = grid_.offset_of(i) + grid_.size_of(i);
    if (segment_end > end) break;
    if (!download->delivered[i]) {
      download->delivered[i] = true;
      --download->remaining;
    }
  }
  if (download->remaining == 0) {
    fx.send_state(req.conn, info_, CLIENT_FILE_DONE, info_.from_user_id);
    fx.close(req.conn, "download done");
    erase_download(req.conn);
  }
  return Verdict::accept();
}

Verdict OfflineTask::on_state(StateReport& report, Clock::time_point now, TaskEffects& fx) {
  const bool from_uploader = uploader_.valid() && report.conn == uploader_;
  const bool from_downloader = find_download(report.conn) != nullptr;
  const char* refusal = nullptr;
  if (!from_uploader && !from_downloader) {
    refusal = "state from a connection that is not a peer";
  } else if (report.user_id != (from_uploader ? info_.from_user_id : info_.to_user_id)) {
    refusal = "state for another user";
  } else if (report.state == CLIENT_FILE_PEER_READY) {
    refusal = "PEER_READY is the server's to send";
  }
  if (refusal != nullptr) {
    fx.close(report.conn, refusal);
    return Verdict::refuse(refusal);
  }
  last_activity_ = now;
  if (from_downloader) {
    erase_download(report.conn);
    fx.close(report.conn, "receiver ended its download");
    return Verdict::accept();
  }
  if (report.state == CLIENT_FILE_DONE) {
    // The sender's DONE proves nothing: the upload stays resumable.
    fx.close(uploader_, "sender said DONE");
    lose_uploader();
    return Verdict::accept();
  }
  // CANCEL or REFUSE: the sender gives the file up.
  fx.close(uploader_, "sender cancelled the upload");
  uploader_ = ConnHandle{};
  if (state_ == State::kUploading || state_ == State::kWaitingUpload) {
    state_ = State::kFailed;
    if (store_begun_) fx.store_abort(info_);
  }
  return Verdict::accept();
}

void OfflineTask::on_conn_closed(ConnHandle conn, Clock::time_point now, TaskEffects&) {
  if (uploader_.valid() && conn == uploader_) {
    lose_uploader();
    last_activity_ = now;
    return;
  }
  erase_download(conn);
}

void OfflineTask::on_tick(Clock::time_point now, TaskEffects& fx) {
  const auto idle = now - last_activity_;
  switch (state_) {
    case State::kWaitingUpload:
      if (idle >= limits_.task_timeout) fail(fx, "the upload never came");
      break;
    case State::kUploading:
      if (idle >= limits_.stall_timeout) {
        fx.close(uploader_, "the upload stalled");
        lose_uploader();
        last_activity_ = now;
      }
      break;
    case State::kComplete:
      // The file stays in the store; only the task in memory is forgotten.
      if (downloads_.empty() && idle >= limits_.linger) forgotten_ = true;
      break;
    case State::kFinalizing:
    case State::kFailed: break;
  }
}

bool OfflineTask::finished() const { return state_ == State::kFailed || forgotten_; }

bool OfflineTask::transferring() const {
  // An uploader is connected while uploading, and while finalizing if it
  // stayed to be told DONE; downloads are connected receivers.
  return uploader_.valid() || !downloads_.empty();
}

}  // namespace ttfs::transfer
