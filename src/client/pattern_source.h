#pragma once

#include <cstdint>
#include <span>

#include "client/data_io.h"

namespace ttfs::client {

// Deterministic file contents: each byte is a function of (seed, offset), so
// a sender and a checker agree on gigabytes without storing any of them, and
// a misplaced segment shows up as a mismatch (its bytes depend on position).
class PatternSource {
 public:
  explicit PatternSource(uint64_t seed) : seed_(seed) {}

  uint8_t byte_at(uint64_t offset) const;
  void fill(uint64_t offset, std::span<uint8_t> dst) const;
  // The first offset in `data` (placed at `offset`) that differs, or -1.
  int64_t first_mismatch(uint64_t offset, std::span<const uint8_t> data) const;
  // A ReadAt that copies this object (it is just the seed).
  ReadAt reader() const;

 private:
  uint64_t word(uint64_t index) const;

  uint64_t seed_;
};

}  // namespace ttfs::client
