#pragma once

#include <signal.h>

#include <chrono>

#include "server/server.h"

namespace ttfs::server {

// ttfsd's exit status when its stop did not finish within the bound.
inline constexpr int kExitStopTimedOut = 3;

// What ttfsd does on its first SIGTERM or SIGINT (`first_signal`): new
// connections are refused at once, and the connections already open are
// served on until no transfer is in flight, `grace` has passed, or another
// of `signals` (blocked in every thread) arrives; then the server stops in
// order, and whatever still transfers is cut (an upload resumes after the
// restart from its checkpoint). If all that has not finished within grace +
// `timeout`, it logs a critical line and ends the process with
// kExitStopTimedOut rather than hang. Returns the exit status of a clean
// stop, 0.
int stop_gracefully(Server& server, const sigset_t& signals, int first_signal,
                    std::chrono::seconds grace, std::chrono::seconds timeout);

}  // namespace ttfs::server
