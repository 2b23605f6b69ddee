#include "transfer/task_quota.h"

namespace ttfs::transfer {

TaskQuota::Refusal TaskQuota::try_acquire(uint32_t user) {
  std::lock_guard lock(mutex_);
  if (max_total_ != 0 && live_ >= max_total_) return Refusal::kOverTotal;
  size_t& mine = live_by_user_[user];
  if (max_per_user_ != 0 && mine >= max_per_user_) return Refusal::kOverPerUser;
  ++mine;
  ++live_;
  return Refusal::kNone;
}

void TaskQuota::acquire(uint32_t user) {
  std::lock_guard lock(mutex_);
  ++live_by_user_[user];
  ++live_;
}

void TaskQuota::release(uint32_t user) {
  std::lock_guard lock(mutex_);
  auto it = live_by_user_.find(user);
  if (it == live_by_user_.end()) return;  // never counted: a bug, but not one to crash on
  if (--it->second == 0) live_by_user_.erase(it);
  --live_;
}

size_t TaskQuota::live() const {
  std::lock_guard lock(mutex_);
  return live_;
}

size_t TaskQuota::live_for(uint32_t user) const {
  std::lock_guard lock(mutex_);
  const auto it = live_by_user_.find(user);
  return it == live_by_user_.end() ? 0 : it->second;
}

}  // namespace ttfs::transfer
