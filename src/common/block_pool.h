#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace ttfs {

// Keeps the page-aligned blocks that segments travel in for the next
// segment, instead of handing each back to malloc. A block freed to malloc
// goes back to the kernel when its heap shrinks, and its next use faults
// every page in again; on a virtual machine each fault costs microseconds,
// which at tens of thousands of segments a second was most of the server's
// time. Recycling newest-first also hands out the block whose lines are
// still in cache.
//
// Blocks that stayed unused for a whole trim interval go back to malloc, so
// a burst's memory is returned once the burst is over.
class BlockPool {
 public:
  using Clock = std::chrono::steady_clock;

  // Room for a 32 KiB segment's PDU placed so that its payload starts on a
  // page, with a page to spare for a larger prefix.
  static constexpr size_t kBlockSize = 40 * 1024;
  static constexpr size_t kAlignment = 4096;

  static BlockPool& shared();

  // A block of kBlockSize bytes aligned to kAlignment; throws std::bad_alloc.
  uint8_t* acquire();
  void release(uint8_t* block);

  // Frees the blocks that none of the acquires since the last trim needed;
  // does nothing if the last trim was less than `interval` ago.
  void trim(Clock::time_point now, Clock::duration interval = std::chrono::seconds(1));

  size_t cached() const;

  BlockPool() = default;
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

 private:
  mutable std::mutex mutex_;
  std::vector<uint8_t*> free_;  // a stack: the last released is the first reused
  size_t low_water_ = 0;        // the fewest cached since the last trim
  Clock::time_point last_trim_{};
};

}  // namespace ttfs
