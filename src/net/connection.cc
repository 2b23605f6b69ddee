#include "net/connection.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace ttfs::net {

bool Connection::flush_output() {
  constexpr size_t kMaxIov = 64;
  while (output_bytes_ > 0) {
    iovec iov[kMaxIov];
    size_t count = 0;
    size_t total = 0;
    for (auto it = output_.begin(); it != output_.end() && count < kMaxIov; ++it, ++count) {
      const size_t skip = count == 0 ? output_head_offset_ : 0;
      iov[count].iov_base = it->data() + skip;
      iov[count].iov_len = it->size() - skip;
      total += iov[count].iov_len;
    }
    // sendmsg rather than writev for MSG_NOSIGNAL: a peer that reset the
    // connection must not raise SIGPIPE in whatever process embeds us.
    msghdr message{};
    message.msg_iov = iov;
    message.msg_iovlen = count;
    const ssize_t n = ::sendmsg(fd_.get(), &message, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno == EAGAIN || errno == EWOULDBLOCK;
    }
    auto written = static_cast<size_t>(n);
    output_bytes_ -= written;
    while (written > 0) {
      const size_t left_in_head = output_.front().size() - output_head_offset_;
      if (written < left_in_head) {
        output_head_offset_ += written;
        break;
      }
      written -= left_in_head;
      output_.pop_front();
      output_head_offset_ = 0;
    }
    if (static_cast<size_t>(n) < total) return true;  // the socket is full
  }
  return true;
}

}  // namespace ttfs::net
