#pragma once

#include <cstdint>
#include <functional>
#include <span>

namespace ttfs::client {

// Where a sending role reads the file's bytes from and a receiving role puts
// them, by offset, so that tests can stream many MiB without holding them.
// Each returns false on a local failure, which ends the transfer with kIo.
using ReadAt = std::function<bool(uint64_t offset, std::span<uint8_t> dst)>;
using WriteAt = std::function<bool(uint64_t offset, std::span<const uint8_t> src)>;

}  // namespace ttfs::client
