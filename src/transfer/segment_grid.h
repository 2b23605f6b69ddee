#pragma once

#include <algorithm>
#include <cstdint>

namespace ttfs::transfer {

// A file cut into fixed-size segments, the last one short.
class SegmentGrid {
 public:
  SegmentGrid(uint64_t file_size, uint32_t segment_size)
      : file_size_(file_size), segment_size_(segment_size) {}

  uint64_t count() const { return (file_size_ + segment_size_ - 1) / segment_size_; }
  uint64_t offset_of(uint64_t index) const { return index * segment_size_; }
  uint32_t size_of(uint64_t index) const {
    return static_cast<uint32_t>(std::min<uint64_t>(segment_size_, file_size_ - offset_of(index)));
  }
  bool is_segment_start(uint64_t offset) const {
    return offset < file_size_ && offset % segment_size_ == 0;
  }
  uint64_t index_of(uint64_t offset) const { return offset / segment_size_; }

 private:
  uint64_t file_size_;
  uint32_t segment_size_;
};

}  // namespace ttfs::transfer
