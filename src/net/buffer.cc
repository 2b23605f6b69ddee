#include "net/buffer.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

namespace ttfs::net {

void Buffer::consume(size_t n) {
  read_index_ += std::min(n, readable_bytes());
  if (read_index_ == write_index_) read_index_ = write_index_ = 0;
}

void Buffer::make_room(size_t n, size_t max_capacity) {
  if (storage_.size() - write_index_ >= n) return;
  const size_t unread = readable_bytes();
  if (read_index_ > 0) {
    std::memmove(storage_.data(), storage_.data() + read_index_, unread);
    read_index_ = 0;
    write_index_ = unread;
  }
  if (storage_.size() - write_index_ < n) {
    const size_t wanted = std::max(storage_.size() * 2, unread + n);
    storage_.resize(std::max(std::min(wanted, max_capacity), unread + n));
  }
}

ssize_t Buffer::read_from(int fd, size_t want, size_t max_capacity) {
  if (readable_bytes() == 0 && storage_.size() < want) {
    // Nothing is pending and there is no room for a whole chunk: read into
    // the stack and keep only what arrived, so a heartbeat or a login costs
    // its own few bytes and not a chunk's worth of zeroed block (muduo's
    // extra buffer). A busy connection's block grows from there as before.
    uint8_t chunk[kStackChunk];
    const ssize_t n = ::read(fd, chunk, std::min(want, sizeof chunk));
    if (n > 0) {
      make_room(static_cast<size_t>(n), max_capacity);
      std::memcpy(storage_.data(), chunk, static_cast<size_t>(n));
      write_index_ = static_cast<size_t>(n);
    }
    return n;
  }
  make_room(want, max_capacity);
  const size_t room = storage_.size() - write_index_;
  const ssize_t n = ::read(fd, storage_.data() + write_index_, room);
  if (n > 0) write_index_ += static_cast<size_t>(n);
  return n;
}

void Buffer::append(std::span<const uint8_t> bytes) {
  make_room(bytes.size(), SIZE_MAX);
  std::memcpy(storage_.data() + write_index_, bytes.data(), bytes.size());
  write_index_ += bytes.size();
}

void Buffer::shrink_if_empty(size_t keep) {
  if (readable_bytes() == 0 && storage_.size() > keep) {
    std::vector<uint8_t>(keep).swap(storage_);
    read_index_ = write_index_ = 0;
  }
}

}  // namespace ttfs::net
