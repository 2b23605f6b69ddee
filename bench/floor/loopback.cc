#include "loopback.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>

#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace ttfs::floor {
namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void check(ssize_t n, const char* what) {
  if (n < 0 && errno != EINTR) fail(what);
  if (n == 0) throw std::runtime_error(std::string(what) + ": the other end closed early");
}

}  // namespace

SocketPair connect_over_loopback() {
  UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (!listener || ::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      ::listen(listener.get(), 1) != 0 ||
      ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    fail("loopback listener");
  }
  SocketPair pair;
  pair.peer_end = UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!pair.peer_end ||
      ::connect(pair.peer_end.get(), reinterpret_cast<sockaddr*>(&address), length) != 0) {
    fail("loopback connect");
  }
  pair.server_end = UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!pair.server_end) fail("loopback accept");
  const int one = 1;
  ::setsockopt(pair.server_end.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(pair.peer_end.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return pair;
}

void read_exact(int fd, void* data, size_t size) {
  auto* at = static_cast<char*>(data);
  while (size > 0) {
    const ssize_t n = ::read(fd, at, size);
    check(n, "read");
    if (n < 0) continue;
    at += n;
    size -= static_cast<size_t>(n);
  }
}

void write_all(int fd, const void* data, size_t size) {
  const auto* at = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd, at, size);
    check(n, "write");
    if (n < 0) continue;
    at += n;
    size -= static_cast<size_t>(n);
  }
}

void splice_exact(int in, int out, size_t size) {
  while (size > 0) {
    const ssize_t n = ::splice(in, nullptr, out, nullptr, size, SPLICE_F_MOVE);
    check(n, "splice");
    if (n > 0) size -= static_cast<size_t>(n);
  }
}

void sendfile_exact(int socket, int file, off_t offset, size_t size) {
  while (size > 0) {
    const ssize_t n = ::sendfile(socket, file, &offset, size);
    check(n, "sendfile");
    if (n > 0) size -= static_cast<size_t>(n);
  }
}

double thread_cpu_seconds() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

}  // namespace ttfs::floor
