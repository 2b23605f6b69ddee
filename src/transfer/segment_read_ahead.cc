#include "transfer/segment_read_ahead.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <limits>
#include <span>
#include <vector>

#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace ttfs::transfer {

int SegmentReadAhead::take(uint16_t seq, std::string_view task_id, uint32_t user_id,
                           uint64_t offset, uint32_t size, uint32_t depth, Bytes* pdu) {
  const auto it = std::find_if(ready_.begin(), ready_.end(), [&](const Ready& r) {
    return r.offset == offset && r.size == size && r.user_id == user_id;
  });
  if (it != ready_.end()) {
    *pdu = std::move(it->pdu);
    ready_.erase(it);
  } else if (const int err = read_from(task_id, user_id, offset, size, depth, pdu); err != 0) {
    return err;
  }
  net::patch_seq_num(pdu->data(), seq);
  return 0;
}

int SegmentReadAhead::read_from(std::string_view task_id, uint32_t user_id, uint64_t offset,
                                uint32_t size, uint32_t depth, Bytes* first) {
  const uint64_t file_size = reader_->meta().file_size;
  // The protocol's offsets are 32 bits wide.
  const uint64_t end = std::min<uint64_t>(file_size, std::numeric_limits<uint32_t>::max());
  std::vector<Ready> batch;
  std::vector<std::span<uint8_t>> payloads;
  for (uint64_t at = offset; at < end && batch.size() < std::max<uint32_t>(depth, 1); at += size) {
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(size, file_size - at));
    auto rsp = net::build_pull_data_rsp(0, 0, task_id, user_id, static_cast<uint32_t>(at), n);
    payloads.push_back({rsp.pdu.data() + rsp.data_offset, n});
    batch.push_back({at, n, user_id, std::move(rsp.pdu)});
  }
  if (batch.empty()) return EINVAL;
  if (const int err = reader_->read_consecutive(offset, payloads); err != 0) {
    // A damaged block further on must not cost the segments before it: the
    // pull is answered alone when its own bytes are sound.
    if (batch.size() == 1) return err;
    return read_from(task_id, user_id, offset, size, 1, first);
  }
  read_to_end_ = read_to_end_ || batch.back().offset + batch.back().size >= file_size;
  *first = std::move(batch.front().pdu);
  for (size_t i = 1; i < batch.size(); ++i) ready_.push_back(std::move(batch[i]));
  // A batch and the one before it stay; older ones were passed over.
  const size_t keep = 2 * (batch.size() - 1);
  if (ready_.size() > keep) {
    ready_.erase(ready_.begin(), ready_.end() - static_cast<std::ptrdiff_t>(keep));
  }
  return 0;
}

}  // namespace ttfs::transfer
