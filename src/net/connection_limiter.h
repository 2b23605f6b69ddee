#pragma once

#include <sys/socket.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/conn_handle.h"

namespace ttfs::net {

// A peer's address without its port: what a per-address bound counts by.
// IPv4 addresses are held in their IPv4-mapped IPv6 form.
struct PeerAddress {
  std::array<uint8_t, 16> bytes{};

  static PeerAddress from(const sockaddr_storage& addr);
  std::string str() const;
  friend bool operator==(const PeerAddress&, const PeerAddress&) = default;
};

struct ConnectionLimits {
  size_t max_client_connections = 100000;            // client port, every address, all IO threads
  size_t max_client_connections_per_address = 1024;  // 0: no bound
  // The msg-server port has a bound of its own, so that clients filling the
  // client port can never keep msg_server from (re)connecting.
  size_t max_msg_server_connections = 256;
};

enum class Admission : uint8_t { kAdmitted, kOverTotal, kOverPerAddress };

// The connection bounds that hold across every IO thread: SO_REUSEPORT
// spreads one address's connections over all of them, so each thread's own
// count would say nothing. Accepting is not the hot path; one mutex does.
class ConnectionLimiter {
 public:
  // What an admitted connection holds; gives its place back when destroyed.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept { *this = std::move(other); }
    Ticket& operator=(Ticket&& other) noexcept;
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;
    ~Ticket() { reset(); }
    void reset();

   private:
    friend class ConnectionLimiter;
    ConnectionLimiter* owner_ = nullptr;
    PortKind port_ = PortKind::kClient;
    PeerAddress address_;
  };

  explicit ConnectionLimiter(ConnectionLimits limits) : limits_(limits) {}
  ConnectionLimiter(const ConnectionLimiter&) = delete;
  ConnectionLimiter& operator=(const ConnectionLimiter&) = delete;

  // Thread-safe. On kAdmitted, `ticket` holds the place.
  Admission admit(PortKind port, const PeerAddress& address, Ticket& ticket);

  const ConnectionLimits& limits() const { return limits_; }
  size_t open(PortKind port) const;
  size_t open_from(const PeerAddress& address) const;

 private:
  struct AddressHash {
    size_t operator()(const PeerAddress& a) const noexcept;
  };

  void release(PortKind port, const PeerAddress& address);

  const ConnectionLimits limits_;
  mutable std::mutex mutex_;
  size_t client_open_ = 0;
  size_t msg_server_open_ = 0;
  std::unordered_map<PeerAddress, uint32_t, AddressHash> client_open_by_address_;
};

}  // namespace ttfs::net
