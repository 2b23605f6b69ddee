#pragma once

#include <cstdint>

namespace ttfs::transfer {

// How deep each of a worker's transfers may go, given how many share the
// worker: every segment in flight or read ahead holds a pooled block, so
// the depths are shares of a budget, and beyond what moves more bytes they
// would only take memory.

// The PULL_DATA_REQs an offline upload may have in flight (its window),
// among `transferring` transfers on the worker, `configured` at the most.
uint32_t upload_window_share(uint32_t configured, uint64_t transferring);

// How many segments a download's read-ahead reads at a time, among
// `downloads` downloads on the worker.
uint32_t read_ahead_depth_share(uint64_t downloads);

}  // namespace ttfs::transfer
