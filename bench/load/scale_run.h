#pragma once

#include "options.h"

namespace ttfs::load {

// The `scale` mode: holds --hold connections open and quiet, measures the
// server's resident memory before and with them, and runs offline
// round trips and online relays meanwhile (each --concurrency at once,
// --transfers in total), every byte checked. Returns the exit code: 0 only
// when every transfer finished intact and no held connection was dropped.
int run_scale(const Options& options);

}  // namespace ttfs::load
