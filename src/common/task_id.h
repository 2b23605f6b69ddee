#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace ttfs {

// A transfer task's id: a UUID, kept as its 16 bytes. On the wire and on disk
// it is the canonical 36-character lower-case text form; anything else is
// refused by parse(), so no other spelling can ever reach a file path.
class TaskId {
 public:
  static constexpr size_t kTextLength = 36;

  TaskId() = default;
  // A fresh random (version 4) id from the kernel's CSPRNG: a capability,
  // so it must be unguessable.
  static TaskId generate();
  static std::optional<TaskId> parse(std::string_view text);

  std::string str() const;
  // The first two hex digits, which name the task's storage shard directory.
  std::string shard_prefix() const { return str().substr(0, 2); }
  uint64_t hash() const;
  bool is_nil() const;

  friend bool operator==(const TaskId& a, const TaskId& b) { return a.bytes_ == b.bytes_; }
  friend bool operator!=(const TaskId& a, const TaskId& b) { return !(a == b); }
  friend bool operator<(const TaskId& a, const TaskId& b) { return a.bytes_ < b.bytes_; }

 private:
  std::array<uint8_t, 16> bytes_{};
};

}  // namespace ttfs

template <>
struct std::hash<ttfs::TaskId> {
  size_t operator()(const ttfs::TaskId& id) const noexcept {
    return static_cast<size_t>(id.hash());
  }
};
