#include "pattern.h"

#include <cstring>

namespace ttfs::load {

namespace {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

Pattern::Pattern(uint64_t seed)
    : seed_(seed), bytes_(std::make_unique<uint8_t[]>(kPeriod + kMaxSlice)) {
  uint64_t state = seed;
  for (size_t i = 0; i < kPeriod; i += 8) {
    const uint64_t word = splitmix64(state);
    std::memcpy(bytes_.get() + i, &word, i + 8 <= kPeriod ? 8 : kPeriod - i);
  }
  // Byte by byte: the tail is longer than the period, so it repeats itself.
  for (size_t i = kPeriod; i < kPeriod + kMaxSlice; ++i) bytes_[i] = bytes_[i - kPeriod];
}

uint32_t Pattern::salt_for(uint64_t transfer_index) const {
  uint64_t state = seed_ ^ (transfer_index * 0xd1b54a32d192ed03ull);
  return static_cast<uint32_t>(splitmix64(state) % kPeriod);
}

}  // namespace ttfs::load
