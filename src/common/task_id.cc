#include "common/task_id.h"

#include <uuid/uuid.h>

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
  TaskId id;
  uuid_t raw;
  // uuid_generate_random reads the kernel's CSPRNG (getrandom); a task id is
  // a bearer capability, so a time-based UUID would be a guessable one.
  uuid_generate_random(raw);
  std::memcpy(id.bytes_.data(), raw, id.bytes_.size());
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
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  text.reserve(kTextLength);
  for (size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) text.push_back('-');
    text.push_back(kHex[bytes_[i] >> 4]);
    text.push_back(kHex[bytes_[i] & 0xf]);
  }
  return text;
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
