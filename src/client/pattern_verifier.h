#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "client/data_io.h"
#include "client/pattern_source.h"

namespace ttfs::client {

// A sink for PatternSource contents that checks every byte as it arrives and
// records which segments were written, so a test learns both "was anything
// corrupt" and "did every byte arrive exactly once" without keeping the data.
class PatternVerifier {
 public:
  PatternVerifier(uint64_t seed, uint64_t file_size, uint32_t segment_size = 32768);

  // A WriteAt bound to this object, which must outlive it. It accepts
  // corrupt data (so the transfer runs on) and records the corruption.
  WriteAt writer();

  uint64_t bytes_written() const;
  // -1 when every byte written so far matched.
  int64_t first_mismatch() const;
  // Segments written more than once, or at an offset off the segment grid.
  uint64_t duplicate_or_misaligned() const;
  // Every segment written exactly once and no byte corrupt.
  bool complete_and_correct() const;

 private:
  bool write(uint64_t offset, std::span<const uint8_t> src);

  PatternSource pattern_;
  uint64_t file_size_;
  uint32_t segment_size_;
  mutable std::mutex mutex_;  // a sink may be shared by concurrent receivers
  std::vector<uint8_t> written_;
  uint64_t bytes_ = 0;
  int64_t first_mismatch_ = -1;
  uint64_t anomalies_ = 0;
};

}  // namespace ttfs::client
