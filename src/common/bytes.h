#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <string_view>

namespace ttfs {

// An owned, fixed-size, uninitialised byte block. Payloads cross threads as
// Bytes (moved, never shared), so the pointer a reader holds into one stays
// valid for as long as the block lives, wherever it has been moved to.
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(size_t size)
      : data_(size ? std::make_unique_for_overwrite<uint8_t[]>(size) : nullptr), size_(size) {}
  static Bytes copy_of(std::span<const uint8_t> src) {
    Bytes b(src.size());
    if (!src.empty()) std::memcpy(b.data(), src.data(), src.size());
    return b;
  }
  static Bytes copy_of(std::string_view src) {
    return copy_of(std::span(reinterpret_cast<const uint8_t*>(src.data()), src.size()));
  }

  Bytes(Bytes&& other) noexcept : data_(std::move(other.data_)), size_(other.size_) {
    other.size_ = 0;
  }
  Bytes& operator=(Bytes&& other) noexcept {
    data_ = std::move(other.data_);
    size_ = other.size_;
    other.size_ = 0;
    return *this;
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  uint8_t* data() { return data_.get(); }
  const uint8_t* data() const { return data_.get(); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_.get(), size_}; }
  std::span<uint8_t> span() { return {data_.get(), size_}; }
  // Shrinks the visible size without reallocating (for a block filled short).
  void truncate(size_t size) {
    if (size < size_) size_ = size;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  size_t size_ = 0;
};

// A view of part of a Bytes block, together with the block that owns it, so
// that a segment's payload can travel without being copied out of its PDU.
struct Payload {
  Bytes block;
  size_t offset = 0;
  size_t length = 0;

  const uint8_t* data() const { return block.data() + offset; }
  size_t size() const { return length; }
  std::span<const uint8_t> span() const { return {data(), length}; }
};

}  // namespace ttfs
