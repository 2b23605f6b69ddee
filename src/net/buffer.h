#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ttfs::net {

// A connection's input buffer: readable bytes between read_index and
// write_index of one contiguous block. Consumed bytes are reclaimed by
// moving the unread tail to the front, and a buffer that grew for one large
// PDU shrinks back once it is drained, so idle connections stay small.
class Buffer {
 public:
  explicit Buffer(size_t initial_capacity = 0) : storage_(initial_capacity) {}

  std::span<const uint8_t> readable() const {
    return {storage_.data() + read_index_, write_index_ - read_index_};
  }
  size_t readable_bytes() const { return write_index_ - read_index_; }
  void consume(size_t n);

  // Reads once from fd into free space, growing towards `max_capacity`; an
  // empty buffer without room for `want` bytes grows only by what arrives.
  // Returns read(2)'s result (0 at end of stream, -1 with errno set).
  ssize_t read_from(int fd, size_t want, size_t max_capacity);
  void append(std::span<const uint8_t> bytes);

  size_t capacity() const { return storage_.size(); }
  // Releases the block of an empty buffer that grew beyond `keep` bytes.
  void shrink_if_empty(size_t keep);

 private:
  void make_room(size_t n, size_t max_capacity);

  static constexpr size_t kStackChunk = 64 * 1024;

  std::vector<uint8_t> storage_;
  size_t read_index_ = 0;
  size_t write_index_ = 0;
};

}  // namespace ttfs::net
