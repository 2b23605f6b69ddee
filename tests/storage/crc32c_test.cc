#include "storage/crc32c.h"

#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "storage/crc32c_detail.h"

namespace ttfs::storage {
namespace {

using detail::crc32c_hw;
using detail::crc32c_portable;

std::span<const uint8_t> bytes_of(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::vector<uint8_t> random_bytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint8_t> v(n);
  for (auto& b : v) b = static_cast<uint8_t>(rng());
  return v;
}

// Bit at a time from the definition, sharing no table or code with either
// path, so a table built wrong cannot agree with itself.
uint32_t crc32c_bitwise(std::span<const uint8_t> data, uint32_t seed = 0) {
  uint32_t c = ~seed;
  for (uint8_t b : data) {
    c ^= b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
  }
  return ~c;
}

void skip_without_hw() {
  if (!detail::crc32c_hw_available()) GTEST_SKIP() << "no SSE4.2 on this CPU";
}

TEST(Crc32cTest, KnownVectors) {
  EXPECT_EQ(crc32c(bytes_of("")), 0u);
  EXPECT_EQ(crc32c(bytes_of("a")), 0xC1D04330u);
  EXPECT_EQ(crc32c(bytes_of("123456789")), 0xE3069283u);
  EXPECT_EQ(crc32c(bytes_of("The quick brown fox jumps over the lazy dog")), 0x22620404u);

  // RFC 3720, appendix B.4.
  std::vector<uint8_t> v(32, 0x00);
  EXPECT_EQ(crc32c(v), 0x8A9136AAu);
  std::fill(v.begin(), v.end(), 0xFF);
  EXPECT_EQ(crc32c(v), 0x62A8AB43u);
  for (size_t i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(i);
  EXPECT_EQ(crc32c(v), 0x46DD794Eu);
  for (size_t i = 0; i < 32; ++i) v[i] = static_cast<uint8_t>(31 - i);
  EXPECT_EQ(crc32c(v), 0x113FDB5Cu);
  const std::vector<uint8_t> iscsi_read = {
      0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
      0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
      0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};
  EXPECT_EQ(crc32c(iscsi_read), 0xD9963A56u);
}

TEST(Crc32cTest, BothPathsGiveTheKnownVectors) {
  for (auto* fn : {&crc32c_portable, &crc32c_hw}) {
    if (fn == &crc32c_hw && !detail::crc32c_hw_available()) continue;
    EXPECT_EQ(fn(bytes_of("123456789"), 0), 0xE3069283u);
    EXPECT_EQ(fn(std::vector<uint8_t>(32, 0), 0), 0x8A9136AAu);
  }
}

TEST(Crc32cTest, PortableEqualsBitwiseForEveryShortLength) {
  const auto data = random_bytes(1100 + 16, 1);
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t len = 0; len <= 1100; ++len) {
      const std::span<const uint8_t> s(data.data() + offset, len);
      ASSERT_EQ(crc32c_portable(s, 0), crc32c_bitwise(s)) << "len " << len << " offset " << offset;
    }
  }
}

TEST(Crc32cTest, HardwareEqualsPortableForEveryShortLengthAndMisalignment) {
  skip_without_hw();
  const auto data = random_bytes(1100 + 16, 2);
  for (size_t offset = 0; offset < 16; ++offset) {
    for (size_t len = 0; len <= 1100; ++len) {
      const std::span<const uint8_t> s(data.data() + offset, len);
      ASSERT_EQ(crc32c_hw(s, 0x12345678u), crc32c_portable(s, 0x12345678u))
          << "len " << len << " offset " << offset;
    }
  }
}

TEST(Crc32cTest, HardwareEqualsPortableOnLargeBuffers) {
  skip_without_hw();
  const auto data = random_bytes((4 << 20) + 16, 3);
  // Around the 32 KiB segment and both three-way block sizes (3 x 10920,
  // 3 x 256), 1 MiB, and odd sizes that leave every kind of tail.
  const size_t sizes[] = {768,   769,   775,     32760,   32767,         32768,     32769,  32776,
                          65521, 65536, 100'003, 1 << 20, (1 << 20) + 7, 3'000'017, 4 << 20};
  for (size_t size : sizes) {
    for (size_t offset : {0, 1, 3, 8, 13}) {
      const std::span<const uint8_t> s(data.data() + offset, size);
      ASSERT_EQ(crc32c_hw(s, 0), crc32c_portable(s, 0)) << "size " << size << " offset " << offset;
    }
  }
  const std::span<const uint8_t> all(data.data(), 32768);
  EXPECT_EQ(crc32c_hw(all, 0), crc32c_bitwise(all));
}

TEST(Crc32cTest, DispatchedEqualsPortable) {
  const auto data = random_bytes(100'000, 4);
  EXPECT_EQ(crc32c(data), crc32c_portable(data, 0));
  EXPECT_EQ(crc32c(data, 0xDEADBEEFu), crc32c_portable(data, 0xDEADBEEFu));
}

TEST(Crc32cTest, SeedChainsPieces) {
  const auto data = random_bytes(200'000, 5);
  const std::span<const uint8_t> all(data);
  const uint32_t whole = crc32c(all);
  std::mt19937 rng(6);
  for (int i = 0; i < 200; ++i) {
    const size_t cut = rng() % (data.size() + 1);
    const uint32_t a = crc32c(all.first(cut));
    EXPECT_EQ(crc32c(all.subspan(cut), a), whole) << "cut " << cut;
    EXPECT_EQ(crc32c_portable(all.subspan(cut), crc32c_portable(all.first(cut), 0)), whole);
  }
}

TEST(Crc32cTest, CombineEqualsDirectComputation) {
  const auto data = random_bytes(300'000, 7);
  const std::span<const uint8_t> all(data);
  std::mt19937 rng(8);
  for (int i = 0; i < 500; ++i) {
    const size_t begin = rng() % (data.size() + 1);
    const size_t cut = begin + rng() % (data.size() - begin + 1);
    const size_t end = cut + rng() % (data.size() - cut + 1);
    const auto a = all.subspan(begin, cut - begin);
    const auto b = all.subspan(cut, end - cut);
    ASSERT_EQ(crc32c_combine(crc32c(a), crc32c(b), b.size()),
              crc32c(all.subspan(begin, end - begin)))
        << "a " << a.size() << " b " << b.size();
  }
}

TEST(Crc32cTest, CombineWithEmptyPieces) {
  const auto data = random_bytes(1000, 9);
  const uint32_t crc = crc32c(data);
  EXPECT_EQ(crc32c_combine(crc, crc32c({}), 0), crc);
  EXPECT_EQ(crc32c_combine(crc32c({}), crc, data.size()), crc);
  EXPECT_EQ(crc32c_combine(0, 0, 0), 0u);
}

TEST(Crc32cTest, CombinePerBlockCrcsOfAMultiMiBFile) {
  // How a file's CRC is derived: 32 KiB blocks, a short last one.
  const auto data = random_bytes((5 << 20) + 12'345, 10);
  const std::span<const uint8_t> all(data);
  constexpr size_t kBlock = 32 * 1024;
  uint32_t file_crc = 0;
  for (size_t off = 0; off < data.size(); off += kBlock) {
    const auto block = all.subspan(off, std::min(kBlock, data.size() - off));
    file_crc = crc32c_combine(file_crc, crc32c(block), block.size());
  }
  EXPECT_EQ(file_crc, crc32c(all));

  // Two multi-MiB halves joined at once.
  const size_t cut = (3 << 20) + 1;
  EXPECT_EQ(crc32c_combine(crc32c(all.first(cut)), crc32c(all.subspan(cut)), data.size() - cut),
            crc32c(all));
}

TEST(Crc32cTest, CombineOverHugeLengthsMatchesZeroBytes) {
  // Lengths beyond any buffer: B made of zeros, whose CRC the seed chaining
  // can produce piecewise; checks the high bits of length_b are used.
  const std::vector<uint8_t> zeros(1 << 20, 0);
  uint32_t crc_zeros = 0;
  for (int i = 0; i < 64; ++i) crc_zeros = crc32c(zeros, crc_zeros);  // 64 MiB of zeros
  const uint32_t crc_a = crc32c(bytes_of("123456789"));
  uint32_t direct = crc_a;
  for (int i = 0; i < 64; ++i) direct = crc32c(zeros, direct);
  EXPECT_EQ(crc32c_combine(crc_a, crc_zeros, uint64_t{64} << 20), direct);
}

TEST(Crc32cTest, PolynomialHelpers) {
  using detail::kOne;
  using detail::multiply;
  using detail::x_pow_8n;
  EXPECT_EQ(x_pow_8n(0), kOne);
  EXPECT_EQ(multiply(kOne, 0x12345678u), 0x12345678u);
  EXPECT_EQ(multiply(0x12345678u, kOne), 0x12345678u);
  EXPECT_EQ(multiply(0xCAFEBABEu, 0x0BADF00Du), multiply(0x0BADF00Du, 0xCAFEBABEu));
  // x^(8(m+n)) = x^(8m) * x^(8n), including past 2^32 bytes.
  for (uint64_t m : {1ull, 7ull, 4096ull, 1ull << 40}) {
    for (uint64_t n : {3ull, 32768ull, (1ull << 33) + 5}) {
      EXPECT_EQ(x_pow_8n(m + n), multiply(x_pow_8n(m), x_pow_8n(n))) << m << " " << n;
    }
  }
}

}  // namespace
}  // namespace ttfs::storage
