#pragma once

#include <cstdint>
#include <string>

namespace ttfs::net {

// Owns a file descriptor and closes it once.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

// A non-blocking IPv4 listening socket with SO_REUSEADDR and, when asked,
// SO_REUSEPORT so that every IO thread can own one on the same port.
// Throws std::system_error naming the address when it cannot listen.
UniqueFd listen_tcp(const std::string& ip, uint16_t port, bool reuse_port, int backlog = 1024);
uint16_t local_port(int fd);
std::string peer_address(int fd);

}  // namespace ttfs::net
