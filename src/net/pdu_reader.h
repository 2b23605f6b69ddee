#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "common/bytes.h"
#include "net/buffer.h"
#include "net/pdu.h"

namespace ttfs::net {

// Cuts a connection's byte stream into PDUs, each handed out in a block of
// its own. Most PDUs are read into a small input buffer and copied out of
// it. A segment (a PULL_DATA_RSP of up to a pooled block) is read from the
// socket straight into its block, with its payload on a page boundary. Each
// read takes the rest of the PDU under way plus a small lookahead, and the
// lookahead (the next PDU's header and first fields) says where to place the
// next. So on the hot path the kernel's copy is the only one, into a
// recycled block that is still mapped, at one read per segment.
class PduReader {
 public:
  explicit PduReader(uint32_t max_pdu_length) : max_pdu_length_(max_pdu_length) {}

  // One read(2) or readv(2) from `fd`; returns its result (0 at end of
  // stream, -1 with errno set).
  ssize_t read_from(int fd);

  struct Next {
    FrameStatus status = FrameStatus::kNeedMore;
    PduHeader header;  // set unless kNeedMore
    Bytes pdu;         // the whole PDU, for kFrame
  };
  // The next whole PDU, or kNeedMore while none is whole, or the header of
  // one whose length is out of bounds (kTooShort, kTooLong).
  Next next();

  // Part of a PDU has arrived, and not all of it.
  bool holds_partial() const;
  // The last read took all it asked for: more is probably waiting.
  bool last_read_filled() const { return filled_; }
  // Frees the input buffer if nothing is in it (an idle connection).
  void release_idle_memory() { input_.shrink_if_empty(0); }

  // How much is read beyond the PDU under way: enough for a PULL_DATA_RSP's
  // header and the fields before its payload, and for a window of small
  // PDUs (a receiver's PULL_DATA_REQs) in one read.
  static constexpr size_t kLookahead = 1024;

 private:
  // Moves the first bytes of the segment `header` frames from the input
  // buffer into a block of its own, if it is one to read in place.
  bool begin_in_place(const PduHeader& header);

  uint32_t max_pdu_length_;
  Buffer input_;
  Bytes in_place_;  // the segment being read in place; empty when none is
  size_t in_place_filled_ = 0;
  bool filled_ = false;
};

}  // namespace ttfs::net
