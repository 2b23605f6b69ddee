#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string_view>

#include "common/bytes.h"
#include "storage/file_reader.h"

namespace ttfs::transfer {

// One stored file being downloaded, and the segments read from it before
// their pulls arrived. A receiver pulls segment after segment, so a pull that
// finds nothing ready reads the next few segments in one disk read, each
// straight into the PULL_DATA_RSP that will carry it; the pulls after it are
// answered from memory with only their seq_num set. Without this, each pull
// waits for a disk read of its own, and on a virtual disk the request costs
// more than the bytes.
class SegmentReadAhead {
 public:
  explicit SegmentReadAhead(std::unique_ptr<storage::FileReader> reader)
      : reader_(std::move(reader)) {}

  // The PULL_DATA_RSP answering a pull of `size` bytes at `offset` (cut at
  // the file's end): read before, or read now together with up to depth - 1
  // segments of the same size after it. Returns 0 or the reader's errno.
  int take(uint16_t seq, std::string_view task_id, uint32_t user_id, uint64_t offset, uint32_t size,
           uint32_t depth, Bytes* pdu);

  // Segments read and not yet asked for.
  size_t ready() const { return ready_.size(); }
  // The last segment has been read and everything read has been asked for:
  // a receiver that pulls in order is done, and this can go (a late pull
  // opens the file again).
  bool drained() const { return read_to_end_ && ready_.empty(); }

 private:
  struct Ready {
    uint64_t offset;
    uint32_t size;
    uint32_t user_id;
    Bytes pdu;
  };

  // Reads the segment at `offset` into *first and up to depth - 1 after it
  // into ready_.
  int read_from(std::string_view task_id, uint32_t user_id, uint64_t offset, uint32_t size,
                uint32_t depth, Bytes* first);

  std::unique_ptr<storage::FileReader> reader_;
  // Oldest first. Two receivers of one file each find their own segments
  // here; what nobody asked for is dropped once a few batches have passed.
  std::deque<Ready> ready_;
  bool read_to_end_ = false;
};

}  // namespace ttfs::transfer
