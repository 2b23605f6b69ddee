#include "storage/block_checksums.h"

#include <algorithm>

#include "storage/crc32c.h"

namespace ttfs::storage {

BlockChecksums::BlockChecksums(uint64_t file_size)
    : file_size_(file_size), sums_(block_count(file_size), 0), known_(sums_.size(), false) {}

void BlockChecksums::record(uint64_t offset, std::span<const uint8_t> data,
                            std::optional<uint32_t> data_crc) {
  const uint64_t end = offset + data.size();
  if (data.empty() || end > file_size_) return;
  uint64_t block = offset / kBlockSize;
  for (uint64_t start = block * kBlockSize; start < end; ++block, start += kBlockSize) {
    const uint64_t block_end = std::min<uint64_t>(start + kBlockSize, file_size_);
    if (start < offset || block_end > end) {
      known_[block] = false;  // changed in part: read back later
      continue;
    }
    const bool whole_data = start == offset && block_end == end;
    sums_[block] = whole_data && data_crc ? *data_crc
                                          : crc32c(data.subspan(start - offset, block_end - start));
    known_[block] = true;
  }
}

void BlockChecksums::adopt(std::span<const uint32_t> leading) {
  const size_t n = std::min(leading.size(), sums_.size());
  for (size_t i = 0; i < n; ++i) {
    sums_[i] = leading[i];
    known_[i] = true;
  }
}

int BlockChecksums::fill_unknown(File& file) {
  std::vector<uint8_t> buffer;
  for (size_t block = 0; block < sums_.size(); ++block) {
    if (known_[block]) continue;
    const uint64_t start = block * uint64_t{kBlockSize};
    buffer.resize(static_cast<size_t>(std::min<uint64_t>(kBlockSize, file_size_ - start)));
    if (const int err = file.read_at(buffer, start); err != 0) return err;
    sums_[block] = crc32c(buffer);
    known_[block] = true;
  }
  return 0;
}

bool BlockChecksums::all_known() const {
  return std::all_of(known_.begin(), known_.end(), [](bool k) { return k; });
}

std::vector<uint32_t> BlockChecksums::leading(uint64_t bytes) const {
  std::vector<uint32_t> out;
  for (size_t block = 0; block < sums_.size() && known_[block]; ++block) {
    const uint64_t block_end = std::min<uint64_t>((block + 1) * uint64_t{kBlockSize}, file_size_);
    if (block_end > bytes) break;
    out.push_back(sums_[block]);
  }
  return out;
}

uint32_t BlockChecksums::file_checksum() const {
  uint32_t crc = 0;
  for (size_t block = 0; block < sums_.size(); ++block) {
    const uint64_t start = block * uint64_t{kBlockSize};
    crc = crc32c_combine(crc, sums_[block], std::min<uint64_t>(kBlockSize, file_size_ - start));
  }
  return crc;
}

int64_t first_bad_block(std::span<const uint32_t> sums, uint64_t offset,
                        std::span<const uint8_t> data) {
  constexpr uint64_t kBlock = BlockChecksums::kBlockSize;
  for (uint64_t at = 0; at < data.size(); at += kBlock) {
    const uint64_t block = (offset + at) / kBlock;
    const size_t length = static_cast<size_t>(std::min<uint64_t>(kBlock, data.size() - at));
    if (block >= sums.size() || crc32c(data.subspan(at, length)) != sums[block]) {
      return static_cast<int64_t>(block);
    }
  }
  return -1;
}

}  // namespace ttfs::storage
