#include "net/buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ttfs::net {

void Buffer::consume(size_t n) {
  read_index_ += std::min(n, readable_bytes());
  if (read_index_ == write_index_) read_index_ = write_index_ = 0;
}

void Buffer::reallocate(size_t capacity) {
  const size_t unread = readable_bytes();
  auto block = capacity ? std::make_unique_for_overwrite<uint8_t[]>(capacity) : nullptr;
  if (unread > 0) std::memcpy(block.get(), storage_.get() + read_index_, unread);
  storage_ = std::move(block);
  capacity_ = capacity;
  read_index_ = 0;
  write_index_ = unread;
}

void Buffer::make_room(size_t n, size_t max_capacity) {
  if (capacity_ - write_index_ >= n) return;
  const size_t unread = readable_bytes();
  if (capacity_ - unread >= n) {
    if (unread > 0) std::memmove(storage_.get(), storage_.get() + read_index_, unread);
    read_index_ = 0;
    write_index_ = unread;
    return;
  }
  const size_t wanted = std::max(capacity_ * 2, unread + n);
  reallocate(std::max(std::min(wanted, max_capacity), unread + n));
}

std::span<uint8_t> Buffer::prepare(size_t want, size_t max_capacity) {
  make_room(want, max_capacity);
  return {storage_.get() + write_index_, capacity_ - write_index_};
}

ssize_t Buffer::read_from(int fd, size_t want, size_t max_capacity) {
  if (readable_bytes() == 0 && capacity_ < want) {
    // Nothing is pending and there is no room for a whole chunk: read into
    // the stack and keep only what arrived, so a heartbeat or a login costs
    // its own few bytes and not a chunk's worth of zeroed block (muduo's
    // extra buffer). A busy connection's block grows from there as before.
    uint8_t chunk[kStackChunk];
    const ssize_t n = ::read(fd, chunk, std::min(want, sizeof chunk));
    if (n > 0) {
      append({chunk, static_cast<size_t>(n)}, max_capacity);
    }
    return n;
  }
  const std::span<uint8_t> room = prepare(want, max_capacity);
  const ssize_t n = ::read(fd, room.data(), std::min(room.size(), want));
  if (n > 0) commit(static_cast<size_t>(n));
  return n;
}

void Buffer::append(std::span<const uint8_t> bytes, size_t max_capacity) {
  if (bytes.empty()) return;
  std::memcpy(prepare(bytes.size(), max_capacity).data(), bytes.data(), bytes.size());
  commit(bytes.size());
}

void Buffer::shrink_if_empty(size_t keep) {
  if (readable_bytes() == 0 && capacity_ > keep) reallocate(keep);
}

}  // namespace ttfs::net
