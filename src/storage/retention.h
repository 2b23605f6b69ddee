#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>

#include "common/task_id.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// How long the store keeps what it holds. Zero keeps it forever, which is
// the default here; ttfsd's configuration sets its own (fileserver.conf).
struct RetentionOptions {
  // A complete file is deleted, data and metadata together, this long after
  // it became complete.
  std::chrono::seconds complete_for{0};
  // An unfinished upload that no sender is resuming (a restart or a crash
  // left it) is deleted this long after it was created or after the store
  // started, whichever came later: a restart never takes a sender's chance
  // to resume from it. An upload a worker holds is never touched; its task's
  // own timeouts end it.
  std::chrono::seconds partial_for{0};
  // One pass over the whole store takes this long, one shard directory at a
  // time, so that no step holds the disk writer up for long.
  std::chrono::milliseconds sweep_period{std::chrono::hours(1)};
  // Unix seconds now; tests replace it. Completion times are taken from it
  // too, so that a test's clock and the records agree.
  std::function<int64_t()> clock;

  bool enabled() const { return complete_for.count() > 0 || partial_for.count() > 0; }
  int64_t now_unix() const;
};

struct SweepResult {
  size_t expired_complete = 0;
  size_t expired_partial = 0;
  size_t expired_damaged = 0;  // unreadable records, and data files without one
  size_t errors = 0;           // files that could not be removed (retried on the next pass)

  SweepResult& operator+=(const SweepResult& other);
};

// Deletes what has outlived its retention, and removes data first, record
// second: a crash between the two leaves an expired record without data,
// which no download is served from and which the next pass removes. What a
// crash left damaged (a torn record, data without one) is kept for one
// partial retention after the start, for an operator to look at, then
// removed the same way: a file told DONE is never among them, as its record
// is synced before DONE and never rewritten after.
//
// A download in progress is not cut: its reader holds the file open, and
// unlinking it leaves the open file readable until the download lets go.
class RetentionSweeper {
 public:
  // Whether an unfinished upload is being written (and so not to be touched).
  using InUse = std::function<bool(const TaskId&)>;

  static constexpr uint32_t kShards = 256;

  RetentionSweeper(const StoreLayout& layout, RetentionOptions options);

  // The disk writer calls this between batches: sweeps the next shard when
  // its turn has come (one every sweep_period / kShards).
  SweepResult step_if_due(std::chrono::steady_clock::time_point now, const InUse& in_use);
  SweepResult sweep_shard(uint32_t shard, const InUse& in_use);
  SweepResult sweep_all(const InUse& in_use);

 private:
  // Removes data, then record; age_seconds < 0 when it is not known.
  bool remove_task(const TaskId& id, const char* what, int64_t age_seconds);
  static void count(size_t& removed, bool ok, SweepResult& result);

  const StoreLayout& layout_;
  const RetentionOptions options_;
  const int64_t started_at_unix_;
  std::chrono::steady_clock::time_point next_step_{};
  uint32_t next_shard_ = 0;
};

}  // namespace ttfs::storage
