#pragma once

#include <atomic>

namespace ttfs::tool {

// Set by the first SIGINT or SIGTERM once watch_interrupts() has been
// called; a second one ends the process at once (exit status 130), for a
// transfer stuck in a wait.
const std::atomic<bool>& interrupt_flag();
void watch_interrupts();

}  // namespace ttfs::tool
