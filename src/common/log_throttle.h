#pragma once

#include <chrono>
#include <cstdint>

namespace ttfs {

// Lets one line through per interval and counts the ones held back, so that
// a flood of refusals (a connect storm, a peer over its quota) cannot flood
// the log. Owned by one thread.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LogThrottle(Clock::duration interval = std::chrono::seconds(1)) : interval_(interval) {}

  // True if this occurrence is to be logged; `held_back` is then how many
  // were not since the last one that was.
  bool allow(Clock::time_point now, uint64_t& held_back) {
    if (logged_once_ && now - last_logged_ < interval_) {
      ++held_back_;
      return false;
    }
    logged_once_ = true;
    last_logged_ = now;
    held_back = held_back_;
    held_back_ = 0;
    return true;
  }

 private:
  const Clock::duration interval_;
  bool logged_once_ = false;
  Clock::time_point last_logged_{};
  uint64_t held_back_ = 0;
};

}  // namespace ttfs
