#include "server/watchdog.h"

namespace ttfs::server {

Watchdog::Watchdog(std::chrono::steady_clock::duration limit, std::function<void()> on_expiry) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  thread_ = std::thread([this, deadline, on_expiry = std::move(on_expiry)] {
    std::unique_lock lock(mu_);
    if (disarmed_cv_.wait_until(lock, deadline, [this] { return disarmed_; })) return;
    lock.unlock();
    on_expiry();
  });
}

Watchdog::~Watchdog() {
  {
    std::lock_guard lock(mu_);
    disarmed_ = true;
  }
  disarmed_cv_.notify_all();
  thread_.join();
}

}  // namespace ttfs::server
