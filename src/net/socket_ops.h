#pragma once

#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace ttfs::net {

// A non-blocking IPv4 listening socket with SO_REUSEADDR and, when asked,
// SO_REUSEPORT so that every IO thread can own one on the same port.
// Throws std::system_error naming the address when it cannot listen.
UniqueFd listen_tcp(const std::string& ip, uint16_t port, bool reuse_port, int backlog = 1024);
uint16_t local_port(int fd);
std::string peer_address(int fd);

}  // namespace ttfs::net
