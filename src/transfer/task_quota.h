#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace ttfs::transfer {

// The bounds on live tasks that hold across every worker: tasks are sharded
// by their id, so one user's tasks are spread over all workers and no
// worker's own count could bound them. Tasks are made once per transfer,
// not per segment; one mutex does.
class TaskQuota {
 public:
  enum class Refusal : uint8_t { kNone, kOverTotal, kOverPerUser };

  // A bound of 0 is no bound.
  TaskQuota(size_t max_total, size_t max_per_user)
      : max_total_(max_total), max_per_user_(max_per_user) {}
  TaskQuota(const TaskQuota&) = delete;
  TaskQuota& operator=(const TaskQuota&) = delete;

  // Thread-safe. A new task of `user`'s (its sender): counted if it is
  // within the bounds.
  Refusal try_acquire(uint32_t user);
  // Thread-safe. A task that comes back from the store for a login (a
  // resumed upload, a stored file): counted, never refused, since refusing
  // would cost its user the data already stored.
  void acquire(uint32_t user);
  // Thread-safe. The task is gone, whichever way it ended.
  void release(uint32_t user);

  size_t max_total() const { return max_total_; }
  size_t max_per_user() const { return max_per_user_; }
  size_t live() const;
  size_t live_for(uint32_t user) const;

 private:
  const size_t max_total_;
  const size_t max_per_user_;
  mutable std::mutex mutex_;
  size_t live_ = 0;
  std::unordered_map<uint32_t, size_t> live_by_user_;
};

}  // namespace ttfs::transfer
