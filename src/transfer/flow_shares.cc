#include "transfer/flow_shares.h"

#include <algorithm>

namespace ttfs::transfer {

namespace {

// An equal share of `budget` among `holders`, kept within [least, most].
uint32_t share_of(uint64_t budget, uint64_t holders, uint64_t least, uint64_t most) {
  return static_cast<uint32_t>(
      std::clamp<uint64_t>(budget / std::max<uint64_t>(holders, 1), least, most));
}

}  // namespace

uint32_t upload_window_share(uint32_t configured, uint64_t transferring) {
  // The disk writer merges the adjacent segments of a file that wait
  // together into one write, so an upload's window is also the size of its
  // writes: with 2 in flight, 1000 uploads of 1 MiB took 28-35 us of server
  // CPU a segment (peak RSS 178-200 MB); with 8, 23-29 us (394-520 MB).
  // - A worker's transfers share a budget of 4096 segments (128 MiB), and
  //   past it each gets less.
  // - A few uploads share a deep window, which a lone one needs to keep the
  //   network and the disk busy: one 256 MiB upload moved 15-17k segments/s
  //   with 8 in flight and 37-39k with 64.
  // - Many need no more than 16 each: 100 uploads took 30-38 us a segment
  //   with 64 each, and 24.7-25.9 with 16.
  constexpr uint64_t kSegmentBudget = 4096;
  constexpr uint64_t kDeepShare = 256;
  constexpr uint64_t kManyEach = 16;
  constexpr uint64_t kLeast = 2;
  const uint64_t deep = std::max(kManyEach, kDeepShare / std::max<uint64_t>(transferring, 1));
  return share_of(kSegmentBudget, transferring, std::min<uint64_t>(kLeast, configured),
                  std::min<uint64_t>(configured, deep));
}

uint32_t read_ahead_depth_share(uint64_t downloads) {
  // Each download holds two batches at most, so at most twice the budget
  // waits. Eight a read is where the disk's per-request cost stops paying
  // back: at 1000 downloads, 4 a read served 20.5-22.6k segments/s at
  // 28.8-32.5 us of server CPU each, 8 served 24.7-26.8k at 22.8-28.9 us,
  // and 32 took no less CPU than 8 and four times the memory.
  constexpr uint64_t kSegmentBudget = 4096;
  constexpr uint64_t kDeepest = 8;
  return share_of(kSegmentBudget, downloads, 1, kDeepest);
}

}  // namespace ttfs::transfer
