#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "storage/file_system.h"

namespace ttfs::storage {

// The CRC-32C of every block of a file, computed from the bytes as they
// arrive from the sender, kept in the file's metadata and checked by every
// download, so that bytes the disk changed are refused rather than served.
// A block is one upload segment, so each write covers whole blocks and the
// checksums cost one pass over bytes already in the cache; a write that
// covers a block only in part leaves it to be read back before the upload
// completes.
class BlockChecksums {
 public:
  static constexpr uint32_t kBlockSize = 32768;

  static uint64_t block_count(uint64_t file_size) {
    return (file_size + kBlockSize - 1) / kBlockSize;
  }

  BlockChecksums() = default;
  explicit BlockChecksums(uint64_t file_size);

  // Takes the checksums of the blocks [offset, offset + data.size()) covers
  // whole; a block it covers in part is unknown until fill_unknown().
  // `data_crc`, the CRC-32C of all of `data` if the caller has it, spares
  // computing that of a data that is exactly one block.
  void record(uint64_t offset, std::span<const uint8_t> data,
              std::optional<uint32_t> data_crc = std::nullopt);
  // Takes the leading blocks' checksums from a record a restart left.
  void adopt(std::span<const uint32_t> leading);
  // Computes every unknown block from the file as it is now. 0 or an errno.
  int fill_unknown(File& file);

  bool all_known() const;
  // The checksums of the leading known blocks that lie within [0, bytes).
  std::vector<uint32_t> leading(uint64_t bytes) const;
  const std::vector<uint32_t>& all() const { return sums_; }
  // The CRC-32C of the whole file, combined from its blocks'; all must be known.
  uint32_t file_checksum() const;

 private:
  uint64_t file_size_ = 0;
  std::vector<uint32_t> sums_;
  std::vector<bool> known_;
};

// Checks `data`, which holds the file's bytes from `offset` (a block start)
// to a block end or the file's end, against the file's block checksums.
// Returns the index of the first block that does not match, or -1.
int64_t first_bad_block(std::span<const uint32_t> sums, uint64_t offset,
                        std::span<const uint8_t> data);

}  // namespace ttfs::storage
