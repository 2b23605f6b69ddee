#pragma once

// Internals of crc32c.cc, visible so that tests and benchmarks can hold the
// hardware and the portable path against each other; the rest of the server
// calls crc32c() and crc32c_combine() from crc32c.h.
//
// CRC arithmetic here is on the "raw" register: the value the byte-wise
// update c = T[(c ^ byte) & 0xff] ^ (c >> 8) carries, without the initial and
// final inversion crc32c() adds. On that register processing is linear,
// which is what lets independent pieces be computed apart and joined.
//
// Polynomials are stored reflected, as the register is: bit 31 holds the
// coefficient of x^0 and bit 0 that of x^31.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace ttfs::storage::detail {

// P = x^32 + x^28 + x^27 + ... + 1, the Castagnoli polynomial, reflected and
// without its x^32 term.
inline constexpr uint32_t kReflectedPoly = 0x82F63B78u;
inline constexpr uint32_t kOne = 0x80000000u;  // the polynomial 1

// a(x) * x mod P.
constexpr uint32_t times_x(uint32_t a) { return (a & 1) ? (a >> 1) ^ kReflectedPoly : a >> 1; }

// a(x) * b(x) mod P: add b * x^i for every term x^i of a.
constexpr uint32_t multiply(uint32_t a, uint32_t b) {
  uint32_t product = 0;
  for (int i = 0; i < 32; ++i) {
    if (a & (kOne >> i)) product ^= b;
    b = times_x(b);
  }
  return product;
}

// x^(8 * 2^k) mod P for k = 0..63: the successive squares of x^8, so that
// x^(8n) for any 64-bit n is a product of at most 64 of them.
inline constexpr std::array<uint32_t, 64> kXPow8Pow2 = [] {
  std::array<uint32_t, 64> squares{};
  uint32_t x8 = kOne;
  for (int i = 0; i < 8; ++i) x8 = times_x(x8);
  squares[0] = x8;
  for (size_t k = 1; k < squares.size(); ++k) squares[k] = multiply(squares[k - 1], squares[k - 1]);
  return squares;
}();

// x^(8 * bytes) mod P by square-and-multiply over the bits of `bytes`:
// O(log bytes) multiplications. Multiplying a raw register by it is the same
// as feeding it `bytes` zero bytes.
constexpr uint32_t x_pow_8n(uint64_t bytes) {
  uint32_t result = kOne;
  for (size_t k = 0; bytes != 0; ++k, bytes >>= 1) {
    if (bytes & 1) result = multiply(result, kXPow8Pow2[k]);
  }
  return result;
}

// The same contract as crc32c(): seed is the CRC of the data before.
uint32_t crc32c_portable(std::span<const uint8_t> data, uint32_t seed);

// True if this CPU has the SSE4.2 crc32 instruction (x86-64 only).
bool crc32c_hw_available();

// The SSE4.2 path; call only when crc32c_hw_available(). On builds for other
// architectures it is the portable path, so that callers still link.
uint32_t crc32c_hw(std::span<const uint8_t> data, uint32_t seed);

}  // namespace ttfs::storage::detail
