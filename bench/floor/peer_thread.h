#pragma once

#include <sys/socket.h>

#include <exception>
#include <functional>
#include <initializer_list>
#include <thread>
#include <utility>
#include <vector>

#include "loopback.h"

namespace ttfs::floor {

// A client's side of a floor run on a thread of its own, which reports the
// CPU it used and rethrows what failed in it. If the server's side fails
// first, the peer's sockets are shut down so that it stops waiting on them.
class PeerThread {
 public:
  PeerThread(std::initializer_list<int> sockets, std::function<void()> body)
      : sockets_(sockets), thread_([this, body = std::move(body)] {
          try {
            body();
          } catch (...) {
            error_ = std::current_exception();
          }
          cpu_seconds_ = thread_cpu_seconds();
        }) {}
  ~PeerThread() {
    if (!thread_.joinable()) return;
    for (const int socket : sockets_) ::shutdown(socket, SHUT_RDWR);
    thread_.join();
  }
  PeerThread(const PeerThread&) = delete;
  PeerThread& operator=(const PeerThread&) = delete;

  // Waits for the thread; its CPU seconds.
  double join() {
    thread_.join();
    if (error_) std::rethrow_exception(error_);
    return cpu_seconds_;
  }

 private:
  std::vector<int> sockets_;
  std::exception_ptr error_;
  double cpu_seconds_ = 0;
  std::thread thread_;  // last: it starts once the members it writes exist
};

}  // namespace ttfs::floor
