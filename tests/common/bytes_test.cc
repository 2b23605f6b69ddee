#include "common/bytes.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ttfs {
namespace {

uintptr_t address(const void* p) { return reinterpret_cast<uintptr_t>(p); }

TEST(Bytes, AlignedPutsTheChosenByteOnABoundary) {
  for (size_t at : {size_t{0}, size_t{1}, size_t{62}, size_t{4095}, size_t{4096}, size_t{5000}}) {
    Bytes b = Bytes::aligned(at + 32768, at, kPayloadAlignment);
    ASSERT_EQ(b.size(), at + 32768);
    EXPECT_EQ(address(b.data() + at) % kPayloadAlignment, 0u) << at;
    b.data()[0] = 1;  // the whole visible range is usable
    b.data()[b.size() - 1] = 2;
  }
}

TEST(Bytes, MovingKeepsTheDataWhereItIs) {
  Bytes a = Bytes::aligned(8192, 100, kPayloadAlignment);
  const uint8_t* where = a.data();
  Bytes b(std::move(a));
  EXPECT_EQ(b.data(), where);
  EXPECT_TRUE(a.empty());  // NOLINT(bugprone-use-after-move): the moved-from state is the API
  EXPECT_EQ(a.data(), nullptr);
  Bytes c;
  c = std::move(b);
  EXPECT_EQ(c.data(), where);
  EXPECT_EQ(c.size(), 8192u);
}

TEST(Bytes, EmptyAlignedBlockIsEmpty) {
  const Bytes b = Bytes::aligned(0, 0, kPayloadAlignment);
  EXPECT_TRUE(b.empty());
}

}  // namespace
}  // namespace ttfs
