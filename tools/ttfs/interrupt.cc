#include "ttfs/interrupt.h"

#include <signal.h>
#include <unistd.h>

#include "ttfs/exit_codes.h"

namespace ttfs::tool {

namespace {

std::atomic<bool> g_interrupted{false};

void on_signal(int) {
  if (g_interrupted.exchange(true)) _exit(kExitInterrupted);
}

}  // namespace

const std::atomic<bool>& interrupt_flag() { return g_interrupted; }

void watch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

}  // namespace ttfs::tool
