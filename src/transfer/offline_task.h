#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "transfer/segment_grid.h"
#include "transfer/task.h"

namespace ttfs::transfer {

// An offline transfer: the server drives the upload, keeping a window of
// PULL_DATA_REQs in flight and storing each answer through the disk writer;
// it says DONE only once the store has made the whole file durable. Then
// receivers log in and pull segments, in any order, from the stored file.
class OfflineTask final : public Task {
 public:
  enum class State { kWaitingUpload, kUploading, kFinalizing, kComplete, kFailed };

  OfflineTask(TaskInfo info, const TransferLimits& limits, Clock::time_point now);
  // A task for a file already complete in the store (after a restart, or
  // after the upload's task was forgotten).
  static std::unique_ptr<OfflineTask> stored(TaskInfo info, const TransferLimits& limits,
                                             Clock::time_point now);
  // A partial upload that a restart left in the store, of which the first
  // `durable_bytes` are on stable storage: its sender is asked only for the
  // segments after them.
  static std::unique_ptr<OfflineTask> resumed(TaskInfo info, uint64_t durable_bytes,
                                              const TransferLimits& limits, Clock::time_point now);

  Verdict on_login(const Login& login, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_pull_request(PullRequest& req, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_pull_response(PullResponse& rsp, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_state(StateReport& report, Clock::time_point now, TaskEffects& fx) override;
  void on_conn_closed(ConnHandle conn, Clock::time_point now, TaskEffects& fx) override;
  Verdict on_store_done(const StoreDone& done, Clock::time_point now, TaskEffects& fx) override;
  void on_tick(Clock::time_point now, TaskEffects& fx) override;
  bool finished() const override;
  bool transferring() const override;

  State state() const { return state_; }
  uint32_t in_flight() const { return static_cast<uint32_t>(requests_.size()) + writing_; }
  uint64_t segments_written() const { return written_; }
  size_t downloads() const { return downloads_.size(); }

 private:
  enum class Segment : uint8_t { kMissing, kRequested, kWriting, kWritten };

  struct Request {
    uint64_t index;
    uint16_t seq;
  };

  struct Download {
    ConnHandle conn;
    std::vector<bool> delivered;  // per segment
    uint64_t remaining;
  };

  Verdict login_upload(const Login& login, TaskEffects& fx);
  Verdict login_download(const Login& login, TaskEffects& fx);
  Verdict refuse_login(const Login& login, TaskEffects& fx, const char* why);
  // Asks the uploader for missing segments until the window is full.
  void fill_window(TaskEffects& fx);
  void finalize(TaskEffects& fx);
  // The upload cannot go on (a store error, the sender's CANCEL): the partial
  // file is discarded and the uploader is told and closed.
  void fail(TaskEffects& fx, const char* why);
  // Why an upload ends when the store reports `error`.
  static const char* store_failure(int error);
  // The sender's connection is gone (closed by it or by us): what it was
  // asked for and never answered is asked of its next one, which the upload
  // now waits for.
  void lose_uploader();
  void release_requests();
  Download* find_download(ConnHandle conn);
  void erase_download(ConnHandle conn);

  State state_ = State::kWaitingUpload;
  SegmentGrid grid_;
  // Upload side.
  ConnHandle uploader_;
  bool store_begun_ = false;
  std::vector<Segment> segments_;
  std::vector<Request> requests_;  // the PULL_DATA_REQs in flight, at most a window
  uint64_t next_missing_ = 0;      // no segment before it is missing
  uint32_t writing_ = 0;
  uint64_t written_ = 0;
  uint64_t resume_from_ = 0;  // of a resumed upload: the prefix it takes as stored
  uint16_t next_seq_ = 1;
  bool forgotten_ = false;
  // Download side.
  std::vector<Download> downloads_;
};

}  // namespace ttfs::transfer
