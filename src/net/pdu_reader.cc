#include "net/pdu_reader.h"

#include <sys/uio.h>

#include <algorithm>
#include <cstring>

#include "common/block_pool.h"
#include "net/pull_data_codec.h"

namespace ttfs::net {

namespace {

// A segment worth reading in place: a PULL_DATA_RSP that fits a pooled
// block. A smaller one costs little to copy; a larger one (never asked for:
// the server pulls 32 KiB) is not given a block before its bytes arrive.
bool is_segment(const PduHeader& header) {
  return header.command_id == kCidFilePullDataRsp && header.length >= 2 * kPayloadAlignment &&
         header.length <= BlockPool::kBlockSize - kPayloadAlignment;
}

}  // namespace

ssize_t PduReader::read_from(int fd) {
  const size_t max_capacity = max_pdu_length_ + kLookahead;
  if (in_place_.empty()) {
    // The rest of a PDU whose header is in, or else a lookahead's worth: a
    // segment's header comes in a small read, and the segment after it goes
    // to its own block.
    size_t want = kLookahead;
    const std::span<const uint8_t> arrived = input_.readable();
    if (arrived.size() >= kPduHeaderSize) {
      const PduHeader header = read_header(arrived.data());
      const uint32_t length = std::min(header.length, max_pdu_length_);
      if (length > arrived.size() && !is_segment(header)) want += length - arrived.size();
    }
    const ssize_t n = input_.read_from(fd, want, max_capacity);
    filled_ = n > 0 && static_cast<size_t>(n) == want;
    return n;
  }
  // The rest of the segment under way, then a lookahead.
  const size_t rest = in_place_.size() - in_place_filled_;
  const std::span<uint8_t> room = input_.prepare(kLookahead, max_capacity);
  iovec iov[2] = {{in_place_.data() + in_place_filled_, rest},
                  {room.data(), std::min(room.size(), kLookahead)}};
  const ssize_t n = ::readv(fd, iov, 2);
  filled_ = n > 0 && static_cast<size_t>(n) == iov[0].iov_len + iov[1].iov_len;
  if (n > 0) {
    const size_t into_segment = std::min(static_cast<size_t>(n), rest);
    in_place_filled_ += into_segment;
    input_.commit(static_cast<size_t>(n) - into_segment);
  }
  return n;
}

bool PduReader::begin_in_place(const PduHeader& header) {
  if (!is_segment(header)) return false;
  const std::span<const uint8_t> arrived = input_.readable();
  // Wait for the fields that say where the payload starts, unless they are
  // not coming; then the block is not aligned, and only slower to store.
  const std::optional<size_t> payload_at = find_pull_data_payload(arrived);
  if (!payload_at && arrived.size() < kLookahead) return false;
  in_place_ = pdu_block(header, payload_at);
  std::memcpy(in_place_.data(), arrived.data(), arrived.size());
  in_place_filled_ = arrived.size();
  input_.consume(arrived.size());
  return true;
}

PduReader::Next PduReader::next() {
  Next out;
  if (in_place_.empty()) {
    const FrameResult frame = next_frame(input_.readable(), max_pdu_length_);
    out.status = frame.status;
    out.header = frame.header;
    if (frame.status == FrameStatus::kFrame) {
      out.pdu = copy_pdu(input_.readable().first(frame.header.length), frame.header);
      input_.consume(frame.header.length);
      return out;
    }
    if (frame.status != FrameStatus::kNeedMore || input_.readable_bytes() < kPduHeaderSize ||
        !begin_in_place(frame.header)) {
      return out;
    }
  }
  if (in_place_filled_ < in_place_.size()) return out;  // kNeedMore
  out.status = FrameStatus::kFrame;
  out.header = read_header(in_place_.data());
  out.pdu = std::move(in_place_);
  in_place_filled_ = 0;
  return out;
}

bool PduReader::holds_partial() const { return !in_place_.empty() || input_.readable_bytes() > 0; }

}  // namespace ttfs::net
