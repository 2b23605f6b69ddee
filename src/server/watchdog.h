#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

namespace ttfs::server {

// A bound on work that may hang where no timeout of its own reaches it (a
// sync on a stuck disk): unless it is destroyed within `limit`, it runs
// `on_expiry` on its own thread. ttfsd's on_expiry ends the process.
class Watchdog {
 public:
  Watchdog(std::chrono::steady_clock::duration limit, std::function<void()> on_expiry);
  ~Watchdog();  // disarms it, or waits for an on_expiry already running
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable disarmed_cv_;
  bool disarmed_ = false;
  std::thread thread_;
};

}  // namespace ttfs::server
