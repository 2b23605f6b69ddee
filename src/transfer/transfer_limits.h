#pragma once

#include <chrono>
#include <cstdint>

namespace ttfs::transfer {

// The bounds a worker holds every task to; each is configuration.
struct TransferLimits {
  uint32_t segment_size = 32768;          // the protocol's segment grid
  uint32_t upload_window = 64;            // PULL_DATA_REQs (and their writes) in flight per upload
  uint32_t relay_window = 64;             // a receiver's outstanding pulls on an online task
  uint32_t max_pull_size = 1024 * 1024;   // the largest data_size a download or relay honours
  uint64_t max_file_size = UINT32_MAX;    // the wire's file_size is 32-bit
  std::chrono::seconds task_timeout{60};  // TaskTimeout: a task nobody starts
  std::chrono::seconds stall_timeout{120};  // a started transfer with no progress
  std::chrono::seconds linger{30};          // a finished task kept for late peers
};

}  // namespace ttfs::transfer
