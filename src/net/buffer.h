#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

namespace ttfs::net {

// A connection's input buffer: readable bytes between read_index and
// write_index of one contiguous block. Consumed bytes are reclaimed by
// moving the unread tail to the front, and a buffer that grew for one large
// PDU shrinks back once it is drained, so idle connections stay small.
class Buffer {
 public:
  explicit Buffer(size_t initial_capacity = 0) { reallocate(initial_capacity); }

  std::span<const uint8_t> readable() const {
    return {storage_.get() + read_index_, write_index_ - read_index_};
  }
  size_t readable_bytes() const { return write_index_ - read_index_; }
  void consume(size_t n);

  // Reads at most `want` bytes from fd, once, growing towards
  // `max_capacity`; an empty buffer without room for `want` bytes grows only
  // by what arrives.
  // Returns read(2)'s result (0 at end of stream, -1 with errno set).
  ssize_t read_from(int fd, size_t want, size_t max_capacity);
  void append(std::span<const uint8_t> bytes, size_t max_capacity = SIZE_MAX);

  // Free space for at least `want` bytes (growing towards `max_capacity`)
  // for the caller to read into; commit() then makes what it wrote readable.
  std::span<uint8_t> prepare(size_t want, size_t max_capacity);
  void commit(size_t n) { write_index_ += n; }

  size_t capacity() const { return capacity_; }
  // Releases the block of an empty buffer that grew beyond `keep` bytes.
  void shrink_if_empty(size_t keep);

 private:
  void make_room(size_t n, size_t max_capacity);
  // Moves the unread bytes into a new block of `capacity` bytes.
  void reallocate(size_t capacity);

  static constexpr size_t kStackChunk = 64 * 1024;

  // Not zeroed when it grows: bytes are only read after a read(2) wrote them.
  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_ = 0;
  size_t read_index_ = 0;
  size_t write_index_ = 0;
};

}  // namespace ttfs::net
