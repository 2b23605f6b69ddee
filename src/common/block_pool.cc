#include "common/block_pool.h"

#include <algorithm>
#include <cstdlib>
#include <new>

namespace ttfs {

BlockPool& BlockPool::shared() {
  // Never destroyed: blocks may be released by threads that outlive main.
  static BlockPool* pool = new BlockPool;
  return *pool;
}

BlockPool::~BlockPool() {
  for (uint8_t* block : free_) std::free(block);
}

uint8_t* BlockPool::acquire() {
  {
    std::lock_guard lock(mutex_);
    if (!free_.empty()) {
      uint8_t* block = free_.back();
      free_.pop_back();
      low_water_ = std::min(low_water_, free_.size());
      return block;
    }
    low_water_ = 0;
  }
  auto* block = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, kBlockSize));
  if (block == nullptr) throw std::bad_alloc();
  return block;
}

void BlockPool::release(uint8_t* block) {
  std::lock_guard lock(mutex_);
  free_.push_back(block);
}

void BlockPool::trim(Clock::time_point now, Clock::duration interval) {
  std::vector<uint8_t*> unused;
  {
    std::lock_guard lock(mutex_);
    if (now - last_trim_ < interval) return;
    last_trim_ = now;
    // The oldest-released blocks, at the bottom of the stack, are the ones
    // that were not needed.
    const size_t surplus = std::min(low_water_, free_.size());
    unused.assign(free_.begin(), free_.begin() + static_cast<ptrdiff_t>(surplus));
    free_.erase(free_.begin(), free_.begin() + static_cast<ptrdiff_t>(surplus));
    low_water_ = free_.size();
  }
  for (uint8_t* block : unused) std::free(block);
}

size_t BlockPool::cached() const {
  std::lock_guard lock(mutex_);
  return free_.size();
}

}  // namespace ttfs
