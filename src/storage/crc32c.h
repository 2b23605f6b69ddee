#pragma once

#include <cstdint>
#include <span>

namespace ttfs::storage {

// CRC-32C (Castagnoli; iSCSI, ext4, RFC 3720): reflected polynomial
// 0x82F63B78, initial value and final XOR 0xFFFFFFFF, so "123456789" gives
// 0xE3069283. It checksums metadata records on disk and every data segment
// of an upload or download; it catches torn writes, bit flips and burst
// errors up to 32 bits, not tampering.
//
// Guarantees: the result is the same bit for bit on every CPU and path (the
// SSE4.2 instruction where the CPU has it, a table otherwise, chosen once per
// process), and equal to what earlier releases wrote to disk. `seed` is the
// CRC of the data that came before, so crc32c(B, crc32c(A)) == crc32c(A||B)
// and a stream can be checksummed piece by piece. Any alignment and length.
uint32_t crc32c(std::span<const uint8_t> data, uint32_t seed = 0);

// The CRC-32C of A||B from crc_a = crc32c(A), crc_b = crc32c(B) and B's
// length, without the data: a whole file's CRC from its blocks' CRCs, in
// O(log length_b) time. Exact for any length_b, 0 included.
uint32_t crc32c_combine(uint32_t crc_a, uint32_t crc_b, uint64_t length_b);

}  // namespace ttfs::storage
