#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string_view>

#include "common/block_pool.h"

namespace ttfs {

// Where a segment's payload starts in its block: a page, which is also the
// largest logical block size an O_DIRECT write may ask for.
inline constexpr size_t kPayloadAlignment = 4096;

namespace detail {
// Hands a block back where it came from: the pool, or malloc.
struct FreeBlock {
  bool pooled = false;
  void operator()(uint8_t* p) const {
    if (pooled) {
      BlockPool::shared().release(p);
    } else {
      std::free(p);
    }
  }
};
}  // namespace detail

// An owned, fixed-size, uninitialised byte block. Payloads cross threads as
// Bytes (moved, never shared), so the pointer a reader holds into one stays
// valid for as long as the block lives, wherever it has been moved to.
class Bytes {
 public:
  Bytes() = default;
  explicit Bytes(size_t size)
      : storage_(size ? static_cast<uint8_t*>(std::malloc(size)) : nullptr),
        data_(storage_.get()),
        size_(size) {
    if (size && !storage_) throw std::bad_alloc();
  }
  static Bytes copy_of(std::span<const uint8_t> src) {
    Bytes b(src.size());
    if (!src.empty()) std::memcpy(b.data(), src.data(), src.size());
    return b;
  }
  static Bytes copy_of(std::string_view src) {
    return copy_of(std::span(reinterpret_cast<const uint8_t*>(src.data()), src.size()));
  }
  // An uninitialised block whose byte `aligned_at` starts on an `alignment`
  // boundary (a power of two), with room up to the next boundary after its
  // end: a segment's payload inside a PDU can then be the buffer of an
  // O_DIRECT read or write as it is, with no second copy.
  // A block that fits a pooled one (every 32 KiB segment's) is recycled
  // through BlockPool::shared().
  static Bytes aligned(size_t size, size_t aligned_at, size_t alignment) {
    const size_t lead = (alignment - aligned_at % alignment) % alignment;
    const size_t capacity = (lead + size + alignment - 1) / alignment * alignment;
    Bytes b;
    if (capacity <= BlockPool::kBlockSize && BlockPool::kAlignment % alignment == 0) {
      b.storage_ = Storage(BlockPool::shared().acquire(), detail::FreeBlock{true});
    } else {
      b.storage_.reset(static_cast<uint8_t*>(std::aligned_alloc(alignment, capacity)));
      if (!b.storage_) throw std::bad_alloc();
    }
    b.data_ = b.storage_.get() + lead;
    b.size_ = size;
    return b;
  }

  Bytes(Bytes&& other) noexcept
      : storage_(std::move(other.storage_)), data_(other.data_), size_(other.size_) {
    other.data_ = nullptr;
    other.size_ = 0;
  }
  Bytes& operator=(Bytes&& other) noexcept {
    storage_ = std::move(other.storage_);
    data_ = other.data_;
    size_ = other.size_;
    other.data_ = nullptr;
    other.size_ = 0;
    return *this;
  }
  Bytes(const Bytes&) = delete;
  Bytes& operator=(const Bytes&) = delete;

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::span<const uint8_t> span() const { return {data_, size_}; }
  std::span<uint8_t> span() { return {data_, size_}; }
  // Shrinks the visible size without reallocating (for a block filled short).
  void truncate(size_t size) {
    if (size < size_) size_ = size;
  }

 private:
  using Storage = std::unique_ptr<uint8_t, detail::FreeBlock>;
  Storage storage_;
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// A view of part of a Bytes block, together with the block that owns it, so
// that a segment's payload can travel without being copied out of its PDU.
struct Payload {
  Bytes block;
  size_t offset = 0;
  size_t length = 0;
  // The CRC-32C of the payload, if whoever had its bytes in cache took it:
  // the store needs it, and reaches the bytes only after they went cold.
  std::optional<uint32_t> crc32c;

  const uint8_t* data() const { return block.data() + offset; }
  size_t size() const { return length; }
  std::span<const uint8_t> span() const { return {data(), length}; }
};

}  // namespace ttfs
