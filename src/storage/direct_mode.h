#pragma once

#include <cstdint>

#include "common/bytes.h"
#include "storage/file_system.h"

namespace ttfs::storage {

// O_DIRECT wants offsets, lengths and buffer addresses on the logical block
// size; a page satisfies every device here.
inline bool direct_io_aligned(uint64_t value) { return value % kPayloadAlignment == 0; }

// The O_DIRECT mode of one open file, switched only when the kind of I/O
// changes (for a file in whole segments: once, for its tail), and given up
// for good once the file system refuses a direct transfer.
class DirectMode {
 public:
  DirectMode() = default;
  explicit DirectMode(bool direct) : allowed_(direct), direct_(direct) {}
  // Readies the file for a transfer that may go direct if `aligned`;
  // *direct says whether it does. 0, or an errno if not even buffered mode
  // can be set.
  int prepare(File& file, bool aligned, bool* direct);
  // A direct transfer failed with EINVAL: buffered from now on. 0 or an errno.
  int give_up(File& file);

 private:
  int set(File& file, bool on);

  bool allowed_ = false;  // the file system took O_DIRECT for this file
  bool direct_ = false;   // the file is in O_DIRECT mode now
};

}  // namespace ttfs::storage
