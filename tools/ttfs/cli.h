#pragma once

#include "ttfs/console.h"

namespace ttfs::tool {

// Parses the command line and runs the command it names; returns the exit
// code. `watch_signals` lets a download stop cleanly on Ctrl-C (main sets
// it; tests do not).
int run_cli(int argc, const char* const* argv, Console& console, bool watch_signals);

}  // namespace ttfs::tool
