#include "common/block_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "common/bytes.h"

namespace ttfs {
namespace {

using namespace std::chrono_literals;

TEST(BlockPool, BlocksArePageAlignedAndWritableWhole) {
  BlockPool pool;
  uint8_t* block = pool.acquire();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(block) % BlockPool::kAlignment, 0u);
  std::memset(block, 0x5a, BlockPool::kBlockSize);
  pool.release(block);
}

TEST(BlockPool, TheLastReleasedIsTheFirstReused) {
  BlockPool pool;
  uint8_t* a = pool.acquire();
  uint8_t* b = pool.acquire();
  pool.release(a);
  pool.release(b);
  EXPECT_EQ(pool.cached(), 2u);
  EXPECT_EQ(pool.acquire(), b);
  EXPECT_EQ(pool.acquire(), a);
  EXPECT_EQ(pool.cached(), 0u);
  pool.release(a);
  pool.release(b);
}

TEST(BlockPool, TrimFreesOnlyWhatAWholeIntervalDidNotNeed) {
  BlockPool pool;
  const BlockPool::Clock::time_point t0{};
  std::vector<uint8_t*> blocks;
  for (int i = 0; i < 4; ++i) blocks.push_back(pool.acquire());
  for (uint8_t* b : blocks) pool.release(b);
  pool.trim(t0 + 1s);  // the four were in use during this interval
  EXPECT_EQ(pool.cached(), 4u);

  // One is needed during the next interval: three were never touched.
  pool.release(pool.acquire());
  pool.trim(t0 + 2s);
  EXPECT_EQ(pool.cached(), 1u);

  // Untouched for a whole interval more: it goes too.
  pool.trim(t0 + 3s);
  EXPECT_EQ(pool.cached(), 0u);
}

TEST(BlockPool, TrimWaitsForTheInterval) {
  BlockPool pool;
  const BlockPool::Clock::time_point t0{};
  pool.trim(t0 + 1s);
  pool.release(pool.acquire());
  pool.trim(t0 + 3s);
  EXPECT_EQ(pool.cached(), 1u);  // it was used in this interval
  pool.trim(t0 + 3s + 500ms);    // too soon: nothing happens
  EXPECT_EQ(pool.cached(), 1u);
  pool.trim(t0 + 4s);
  EXPECT_EQ(pool.cached(), 0u);
}

TEST(BlockPool, ThreadsAcquireAndReleaseConcurrently) {
  BlockPool pool;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 2000; ++i) {
        uint8_t* block = pool.acquire();
        block[0] = static_cast<uint8_t>(t);  // each holder owns its block
        block[BlockPool::kBlockSize - 1] = static_cast<uint8_t>(i);
        pool.release(block);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_LE(pool.cached(), 4u);
}

TEST(BlockPool, SegmentSizedAlignedBytesComeFromTheSharedPool) {
  const uint8_t* first;
  {
    Bytes b = Bytes::aligned(32768 + 80, 80, kPayloadAlignment);
    first = b.data() - (kPayloadAlignment - 80);
  }
  // Given back, it is the next one handed out.
  Bytes again = Bytes::aligned(32768 + 80, 80, kPayloadAlignment);
  EXPECT_EQ(again.data() - (kPayloadAlignment - 80), first);
}

}  // namespace
}  // namespace ttfs
