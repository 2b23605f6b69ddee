#include "common/task_id.h"

#include <sys/random.h>
#include <uuid/uuid.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ttfs {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;  // upper case is not canonical
}

bool is_dash_position(size_t i) { return i == 8 || i == 13 || i == 18 || i == 23; }

}  // namespace

TaskId TaskId::generate() {
  // A task id is a bearer capability: whoever knows it may join the task in
  // its role. The bytes come from getrandom(2), which blocks until the
  // kernel's CSPRNG is seeded and never falls back; libuuid's own generator
  // falls back to a rand()-based one when the kernel's source is out of
  // reach (seccomp, no /dev), which would make ids guessable.
  TaskId id;
  size_t filled = 0;
  while (filled < id.bytes_.size()) {
    const ssize_t n = ::getrandom(id.bytes_.data() + filled, id.bytes_.size() - filled, 0);
    if (n > 0) {
      filled += static_cast<size_t>(n);
    } else if (errno != EINTR) {
      std::fprintf(stderr, "ttfs: getrandom failed (%s): cannot make a task id safely\n",
                   std::strerror(errno));
      std::abort();
    }
  }
  // RFC 4122 version 4 (random), variant 1, as uuid_generate_random makes.
  id.bytes_[6] = static_cast<uint8_t>((id.bytes_[6] & 0x0f) | 0x40);
  id.bytes_[8] = static_cast<uint8_t>((id.bytes_[8] & 0x3f) | 0x80);
  return id;
}

std::optional<TaskId> TaskId::parse(std::string_view text) {
  if (text.size() != kTextLength) return std::nullopt;
  TaskId id;
  size_t out = 0;
  for (size_t i = 0; i < kTextLength;) {
    if (is_dash_position(i)) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    id.bytes_[out++] = static_cast<uint8_t>(hi << 4 | lo);
    i += 2;
  }
  return id;
}

std::string TaskId::str() const {
  char text[kTextLength + 1];
  uuid_unparse_lower(bytes_.data(), text);
  return std::string(text, kTextLength);
}

uint64_t TaskId::hash() const {
  // FNV-1a over all 16 bytes: shards stay even whichever UUID version made
  // the id, not only for random ones.
  uint64_t h = 1469598103934665603ull;
  for (uint8_t b : bytes_) {
    h ^= b;
    h *= 1099511628211ull;
  }
  return h;
}

bool TaskId::is_nil() const {
  for (uint8_t b : bytes_) {
    if (b != 0) return false;
  }
  return true;
}

}  // namespace ttfs
