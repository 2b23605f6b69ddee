#pragma once

#include <cstdint>
#include <span>

namespace ttfs::storage {

// CRC-32C (Castagnoli), the checksum ext4 and iSCSI use for metadata: it
// catches torn and bit-flipped metadata, which is all it is for here.
uint32_t crc32c(std::span<const uint8_t> data, uint32_t seed = 0);

}  // namespace ttfs::storage
