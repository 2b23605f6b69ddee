#include "net/connection_limiter.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace ttfs::net {

PeerAddress PeerAddress::from(const sockaddr_storage& addr) {
  PeerAddress peer;
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    peer.bytes[10] = 0xff;
    peer.bytes[11] = 0xff;
    std::memcpy(peer.bytes.data() + 12, &v4.sin_addr, 4);
  } else if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    std::memcpy(peer.bytes.data(), &v6.sin6_addr, 16);
  }
  return peer;
}

std::string PeerAddress::str() const {
  char text[INET6_ADDRSTRLEN] = {};
  static constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    ::inet_ntop(AF_INET, bytes.data() + 12, text, sizeof text);
  } else {
    ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  }
  return text;
}

size_t ConnectionLimiter::AddressHash::operator()(const PeerAddress& a) const noexcept {
  uint64_t high;
  uint64_t low;
  std::memcpy(&high, a.bytes.data(), 8);
  std::memcpy(&low, a.bytes.data() + 8, 8);
  return std::hash<uint64_t>{}(high * 0x9e3779b97f4a7c15ull ^ low);
}

ConnectionLimiter::Ticket& ConnectionLimiter::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = other.owner_;
    port_ = other.port_;
    address_ = other.address_;
    other.owner_ = nullptr;
  }
  return *this;
}

void ConnectionLimiter::Ticket::reset() {
  if (owner_ == nullptr) return;
  owner_->release(port_, address_);
  owner_ = nullptr;
}

Admission ConnectionLimiter::admit(PortKind port, const PeerAddress& address, Ticket& ticket) {
  {
    std::lock_guard lock(mutex_);
    if (port == PortKind::kMsgServer) {
      if (msg_server_open_ >= limits_.max_msg_server_connections) return Admission::kOverTotal;
      ++msg_server_open_;
    } else {
      if (client_open_ >= limits_.max_client_connections) return Admission::kOverTotal;
      const size_t per_address = limits_.max_client_connections_per_address;
      if (per_address != 0) {
        auto [it, inserted] = client_open_by_address_.try_emplace(address, 0);
        if (it->second >= per_address) return Admission::kOverPerAddress;
        ++it->second;
      }
      ++client_open_;
    }
  }
  ticket.reset();
  ticket.owner_ = this;
  ticket.port_ = port;
  ticket.address_ = address;
  return Admission::kAdmitted;
}

void ConnectionLimiter::release(PortKind port, const PeerAddress& address) {
  std::lock_guard lock(mutex_);
  if (port == PortKind::kMsgServer) {
    --msg_server_open_;
    return;
  }
  --client_open_;
  if (limits_.max_client_connections_per_address == 0) return;
  auto it = client_open_by_address_.find(address);
  if (it != client_open_by_address_.end() && --it->second == 0) client_open_by_address_.erase(it);
}

size_t ConnectionLimiter::open(PortKind port) const {
  std::lock_guard lock(mutex_);
  return port == PortKind::kMsgServer ? msg_server_open_ : client_open_;
}

size_t ConnectionLimiter::open_from(const PeerAddress& address) const {
  std::lock_guard lock(mutex_);
  const auto it = client_open_by_address_.find(address);
  return it == client_open_by_address_.end() ? 0 : it->second;
}

}  // namespace ttfs::net
