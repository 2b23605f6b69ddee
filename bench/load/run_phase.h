#pragma once

#include <string>

#include "client_thread.h"
#include "stats.h"

namespace ttfs::load {

// Runs one phase on `threads` client threads sharing `concurrency` slots and
// returns every thread's figures summed; false with `error` when a thread
// cannot start (the msg-server port is unreachable).
bool run_phase(Phase& phase, uint32_t threads, uint32_t concurrency, ThreadStats& result,
               std::string& error);

}  // namespace ttfs::load
