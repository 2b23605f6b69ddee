#pragma once

#include <cstdint>
#include <functional>

namespace ttfs::net {

// Names a connection from any thread without pointing at it (as brpc's
// SocketId does): the IO thread that owns it, its slot there, and the slot's
// generation when it was opened. A handle to a closed connection no longer
// matches its slot's generation, so late messages to it are dropped.
struct ConnHandle {
  uint16_t thread = 0;
  uint32_t slot = 0;
  uint32_t generation = 0;  // 0 never names a live connection

  bool valid() const { return generation != 0; }
  friend bool operator==(const ConnHandle&, const ConnHandle&) = default;
};

enum class PortKind : uint8_t { kClient, kMsgServer };

}  // namespace ttfs::net

template <>
struct std::hash<ttfs::net::ConnHandle> {
  size_t operator()(const ttfs::net::ConnHandle& h) const noexcept {
    return std::hash<uint64_t>{}(static_cast<uint64_t>(h.thread) << 56 ^
                                 static_cast<uint64_t>(h.slot) << 32 ^ h.generation);
  }
};
