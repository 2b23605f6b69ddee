#pragma once

#include <atomic>
#include <ostream>
#include <string>

namespace ttfs::tool {

enum class ProgressMode {
  kBar,    // one line redrawn in place: stderr is a terminal
  kLines,  // a plain line now and then: stderr is a log or a pipe
  kNone,
};

// Where a command talks to the person: results (the ticket, the saved path)
// on `out`, progress and failures on `err`. Tests pass string streams.
struct Console {
  std::ostream& out;
  std::ostream& err;
  ProgressMode progress = ProgressMode::kLines;
  // Set by the signal handler; a download then stops cleanly and keeps
  // what it has for the next run.
  const std::atomic<bool>* interrupted = nullptr;

  bool stop_requested() const {
    return interrupted != nullptr && interrupted->load(std::memory_order_relaxed);
  }
};

// Prints "ttfs: <message>" on its own line and returns `exit_code`, so that
// every failure path is one `return fail(...)`.
int fail(Console& console, int exit_code, const std::string& message);

}  // namespace ttfs::tool
