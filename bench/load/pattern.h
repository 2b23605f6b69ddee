#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace ttfs::load {

// The content of every simulated file, with no per-byte work at run time:
// byte o of the file whose salt is s is bytes_[(o + s) % kPeriod]. The buffer
// repeats its first kMaxSlice bytes after the period, so any slice of up to
// kMaxSlice bytes is one contiguous range that writev sends and memcmp checks
// in place. The period is not a multiple of the 32 KiB segment, so a segment
// delivered at the wrong offset, or from another file, does not compare equal.
class Pattern {
 public:
  static constexpr size_t kPeriod = 1'048'573;  // prime, just under 1 MiB
  static constexpr size_t kMaxSlice = 1024 * 1024;

  explicit Pattern(uint64_t seed);

  // The file's salt: a different phase of the pattern per transfer.
  uint32_t salt_for(uint64_t transfer_index) const;
  // `length` (at most kMaxSlice) bytes of a file at `offset`.
  const uint8_t* slice(uint64_t offset, uint32_t salt) const {
    return bytes_.get() + (offset + salt) % kPeriod;
  }

 private:
  uint64_t seed_;
  std::unique_ptr<uint8_t[]> bytes_;
};

}  // namespace ttfs::load
