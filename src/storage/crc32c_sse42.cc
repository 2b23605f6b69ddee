// CRC-32C with the SSE4.2 crc32 instruction. One instruction folds eight
// bytes into the register but takes three cycles before its result can feed
// the next, while the CPU can start one per cycle. So a long buffer is cut
// into three equal runs checksummed side by side, each from its own
// register, and the three registers are then joined: processing is linear,
// so the register after runs R1 R2 R3 is shift(shift(r1) ^ r2) ^ r3, where
// shift() feeds a register `stride` zero bytes. shift() is a multiplication
// by the constant x^(8 * stride) mod P, done with four 256-entry tables (one
// per register byte) computed at compile time for each stride used.
#include "storage/crc32c_detail.h"

#if defined(__x86_64__)

#include <nmmintrin.h>

#include <cstring>

namespace ttfs::storage::detail {

namespace {

using ShiftTables = std::array<std::array<uint32_t, 256>, 4>;

constexpr ShiftTables make_shift_tables(uint64_t stride) {
  const uint32_t factor = x_pow_8n(stride);
  ShiftTables t{};
  for (size_t k = 0; k < 4; ++k) {
    for (uint32_t b = 0; b < 256; ++b) t[k][b] = multiply(b << (8 * k), factor);
  }
  return t;
}

uint32_t shift(const ShiftTables& t, uint32_t c) {
  return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

// Three runs of the long stride make 32760 bytes, so a 32 KiB segment, the
// size this is tuned for, is one triple and an 8-byte tail; 1 MiB is 32
// triples and 256 bytes. The short stride keeps the three-way overlap for
// the remainder and for buffers of a few KiB, where the cost of joining
// (two table lookups of four loads) is still small against 3 x 32 words.
constexpr size_t kLongStride = 10920;
constexpr size_t kShortStride = 256;
static_assert(kLongStride % 8 == 0 && kShortStride % 8 == 0);
constexpr ShiftTables kLongShift = make_shift_tables(kLongStride);
constexpr ShiftTables kShortShift = make_shift_tables(kShortStride);

// memcpy, not a pointer cast: the data may sit at any address, and an
// unaligned uint64_t* dereference is undefined behaviour even on x86.
uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Consumes whole triples of `Stride`-byte runs from p/n.
template <size_t Stride>
__attribute__((target("sse4.2"))) uint32_t triples(const uint8_t*& p, size_t& n, uint32_t c,
                                                   const ShiftTables& shift_tables) {
  for (; n >= 3 * Stride; p += 3 * Stride, n -= 3 * Stride) {
    uint64_t r1 = c, r2 = 0, r3 = 0;
    for (size_t i = 0; i < Stride; i += 8) {
      r1 = _mm_crc32_u64(r1, load64(p + i));
      r2 = _mm_crc32_u64(r2, load64(p + Stride + i));
      r3 = _mm_crc32_u64(r3, load64(p + 2 * Stride + i));
    }
    const uint32_t r12 = shift(shift_tables, static_cast<uint32_t>(r1)) ^ static_cast<uint32_t>(r2);
    c = shift(shift_tables, r12) ^ static_cast<uint32_t>(r3);
  }
  return c;
}

}  // namespace

bool crc32c_hw_available() {
  // Explicit init: the answer must be right even when the first crc32c()
  // runs inside another file's static initialiser, before libgcc's own.
  __builtin_cpu_init();
  return __builtin_cpu_supports("sse4.2");
}

__attribute__((target("sse4.2"))) uint32_t crc32c_hw(std::span<const uint8_t> data, uint32_t seed) {
  const uint8_t* p = data.data();
  size_t n = data.size();
  uint32_t c = ~seed;
  // Up to 7 single bytes so the 8-byte loads below do not straddle cache
  // lines; all runs stay aligned since the strides are multiples of 8.
  for (; n > 0 && reinterpret_cast<uintptr_t>(p) % 8 != 0; ++p, --n) c = _mm_crc32_u8(c, *p);
  c = triples<kLongStride>(p, n, c, kLongShift);
  c = triples<kShortStride>(p, n, c, kShortShift);
  uint64_t r = c;
  for (; n >= 8; p += 8, n -= 8) r = _mm_crc32_u64(r, load64(p));
  c = static_cast<uint32_t>(r);
  for (; n > 0; ++p, --n) c = _mm_crc32_u8(c, *p);
  return ~c;
}

}  // namespace ttfs::storage::detail

#else  // not x86-64: no crc32 instruction to use

namespace ttfs::storage::detail {

bool crc32c_hw_available() { return false; }

uint32_t crc32c_hw(std::span<const uint8_t> data, uint32_t seed) {
  return crc32c_portable(data, seed);
}

}  // namespace ttfs::storage::detail

#endif
