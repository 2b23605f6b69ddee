#include "conn.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ttfs::load {

namespace {

constexpr size_t kInitialInput = 4096;
// A receiver's buffer holds about four data PDUs: fewer reads, and the partial
// PDU left at its end is moved to the front about once per four segments.
constexpr size_t kDataInput = 128 * 1024;
constexpr int kMaxIov = 64;

}  // namespace

bool Conn::open(uint32_t ip_be, uint16_t port) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return false;
  // Requests are small and each one gates a reply: do not let Nagle hold them.
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = ip_be;
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return true;
  if (errno != EINPROGRESS) {
    const int saved = errno;
    close(true);
    errno = saved;
    return false;
  }
  connecting_ = true;
  return true;
}

bool Conn::finish_connect() {
  int error = 0;
  socklen_t len = sizeof error;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) error = errno;
  if (error != 0) {
    errno = error;
    return false;
  }
  connecting_ = false;
  return true;
}

void Conn::close(bool abortive) {
  if (fd_ < 0) return;
  if (abortive) {
    const linger reset{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  }
  ::close(fd_);
  fd_ = -1;
  connecting_ = false;
}

void Conn::reset(bool abortive) {
  close(abortive);
  in_start_ = in_end_ = 0;
  out_.clear();
  out_head_ = out_sent_ = 0;
}

Conn::OutItem& Conn::push() {
  OutItem& item = out_.emplace_back();
  return item;
}

Conn::Io Conn::flush() {
  while (out_head_ < out_.size()) {
    iovec iov[kMaxIov];
    int count = 0;
    size_t skip = out_sent_;
    for (size_t i = out_head_; i < out_.size() && count + 2 <= kMaxIov; ++i) {
      OutItem& item = out_[i];
      if (skip < item.head_len) {
        iov[count++] = {item.head + skip, item.head_len - skip};
        skip = 0;
      } else {
        skip -= item.head_len;
      }
      if (item.data_len > 0) {
        // The pattern is read-only; iovec just has no const member.
        iov[count++] = {const_cast<uint8_t*>(item.data) + skip, item.data_len - skip};
        skip = 0;
      }
    }
    const ssize_t n = ::writev(fd_, iov, count);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? Io::kOk : Io::kError;
    }
    size_t left = static_cast<size_t>(n) + out_sent_;
    while (out_head_ < out_.size()) {
      const OutItem& item = out_[out_head_];
      const size_t size = item.head_len + item.data_len;
      if (left < size) break;
      left -= size;
      ++out_head_;
    }
    out_sent_ = left;
  }
  out_.clear();
  out_head_ = 0;
  out_sent_ = 0;
  return Io::kOk;
}

bool Conn::make_room() {
  if (!in_) {
    in_ = std::make_unique_for_overwrite<uint8_t[]>(kInitialInput);
    in_cap_ = kInitialInput;
  }
  size_t need = in_end_ - in_start_ + 1;
  if (in_end_ - in_start_ >= net::kPduHeaderSize) {
    const net::PduHeader h = net::read_header(in_.get() + in_start_);
    if (h.length > kMaxPdu) return false;
    need = std::max<size_t>(need, h.length);
  }
  if (in_start_ + need <= in_cap_ && in_end_ < in_cap_) return true;
  if (need <= in_cap_) {
    std::memmove(in_.get(), in_.get() + in_start_, in_end_ - in_start_);
  } else {
    const size_t cap = std::max(2 * need, kDataInput);
    auto bigger = std::make_unique_for_overwrite<uint8_t[]>(cap);
    std::memcpy(bigger.get(), in_.get() + in_start_, in_end_ - in_start_);
    in_ = std::move(bigger);
    in_cap_ = cap;
  }
  in_end_ -= in_start_;
  in_start_ = 0;
  return true;
}

ssize_t Conn::read_some() {
  for (;;) {
    const ssize_t n = ::read(fd_, in_.get() + in_end_, in_cap_ - in_end_);
    if (n > 0) in_end_ += static_cast<size_t>(n);
    if (n >= 0 || errno != EINTR) return n;
  }
}

Conn::Io Conn::drain() {
  uint8_t scratch[4096];
  for (;;) {
    const ssize_t n = ::read(fd_, scratch, sizeof scratch);
    if (n == 0) return Io::kEof;
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN ? Io::kOk : Io::kError;
    }
  }
}

}  // namespace ttfs::load
