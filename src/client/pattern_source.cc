#include "client/pattern_source.h"

#include <cstring>

namespace ttfs::client {

// splitmix64 of the 8-byte word index: cheap, and every word differs.
uint64_t PatternSource::word(uint64_t index) const {
  uint64_t z = seed_ * 0x9e3779b97f4a7c15ull + index + 0x632be59bd9b4e019ull;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint8_t PatternSource::byte_at(uint64_t offset) const {
  return static_cast<uint8_t>(word(offset / 8) >> (8 * (offset % 8)));
}

void PatternSource::fill(uint64_t offset, std::span<uint8_t> dst) const {
  size_t i = 0;
  // Head and tail byte by byte; whole aligned words in the middle.
  while (i < dst.size() && (offset + i) % 8 != 0) {
    dst[i] = byte_at(offset + i);
    ++i;
  }
  while (dst.size() - i >= 8) {
    uint64_t w = word((offset + i) / 8);
    for (int b = 0; b < 8; ++b) {
      dst[i + static_cast<size_t>(b)] = static_cast<uint8_t>(w);
      w >>= 8;
    }
    i += 8;
  }
  while (i < dst.size()) {
    dst[i] = byte_at(offset + i);
    ++i;
  }
}

int64_t PatternSource::first_mismatch(uint64_t offset, std::span<const uint8_t> data) const {
  uint8_t expected[4096];
  for (size_t done = 0; done < data.size();) {
    const size_t n = std::min(sizeof expected, data.size() - done);
    fill(offset + done, std::span(expected, n));
    if (std::memcmp(expected, data.data() + done, n) != 0) {
      for (size_t i = 0; i < n; ++i) {
        if (expected[i] != data[done + i]) return static_cast<int64_t>(offset + done + i);
      }
    }
    done += n;
  }
  return -1;
}

ReadAt PatternSource::reader() const {
  return [source = *this](uint64_t offset, std::span<uint8_t> dst) {
    source.fill(offset, dst);
    return true;
  };
}

}  // namespace ttfs::client
