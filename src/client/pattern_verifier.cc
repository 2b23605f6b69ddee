#include "client/pattern_verifier.h"

namespace ttfs::client {

PatternVerifier::PatternVerifier(uint64_t seed, uint64_t file_size, uint32_t segment_size)
    : pattern_(seed),
      file_size_(file_size),
      segment_size_(segment_size == 0 ? 1 : segment_size),
      written_((file_size + segment_size_ - 1) / segment_size_, 0) {}

WriteAt PatternVerifier::writer() {
  return [this](uint64_t offset, std::span<const uint8_t> src) { return write(offset, src); };
}

bool PatternVerifier::write(uint64_t offset, std::span<const uint8_t> src) {
  const int64_t bad = pattern_.first_mismatch(offset, src);
  std::lock_guard lock(mutex_);
  bytes_ += src.size();
  if (bad >= 0 && (first_mismatch_ < 0 || bad < first_mismatch_)) first_mismatch_ = bad;
  if (offset % segment_size_ != 0 || offset + src.size() > file_size_) {
    ++anomalies_;
  } else if (written_[offset / segment_size_]++ != 0) {
    ++anomalies_;
  }
  return true;
}

uint64_t PatternVerifier::bytes_written() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

int64_t PatternVerifier::first_mismatch() const {
  std::lock_guard lock(mutex_);
  return first_mismatch_;
}

uint64_t PatternVerifier::duplicate_or_misaligned() const {
  std::lock_guard lock(mutex_);
  return anomalies_;
}

bool PatternVerifier::complete_and_correct() const {
  std::lock_guard lock(mutex_);
  if (first_mismatch_ >= 0 || anomalies_ != 0 || bytes_ != file_size_) return false;
  for (uint8_t w : written_) {
    if (w != 1) return false;
  }
  return true;
}

}  // namespace ttfs::client
