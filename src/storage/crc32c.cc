#include "storage/crc32c.h"

#include "storage/crc32c_detail.h"

namespace ttfs::storage {

namespace {

using Impl = uint32_t (*)(std::span<const uint8_t>, uint32_t);

Impl pick_impl() {
  return detail::crc32c_hw_available() ? detail::crc32c_hw : detail::crc32c_portable;
}

}  // namespace

uint32_t crc32c(std::span<const uint8_t> data, uint32_t seed) {
  // Chosen on first use rather than by a namespace-scope initialiser, so a
  // caller in another file's static initialiser cannot see it unset.
  static const Impl impl = pick_impl();
  return impl(data, seed);
}

uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b) {
  // The register after A||B is the register after A pushed through |B| zero
  // bytes, XOR B's register started from zero. Written with the inverted
  // CRCs the inversions cancel: crc(A||B) = crc_a * x^(8|B|) mod P ^ crc_b.
  return detail::multiply(crc_a, detail::x_pow_8n(length_b)) ^ crc_b;
}

}  // namespace ttfs::storage
