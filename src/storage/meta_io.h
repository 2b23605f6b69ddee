#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/file_meta.h"
#include "storage/file_system.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// On-disk form of <id>.meta: a 16-byte header, then a ttfs.store.FileMetaRecord
// (proto/ttfs_store.proto). All header integers are little-endian.
//   0  magic "TTFM"     4  version (u16) = 1     6  header size (u16) = 16
//   8  body length (u32)                         12 CRC-32C of bytes 0..11 + body
// The exact length and the checksum make a torn, truncated or foreign file
// fail to decode instead of being half-believed.
inline constexpr size_t kMetaHeaderSize = 16;
inline constexpr uint16_t kMetaVersion = 1;
// Room for the block checksums of the largest file the wire can name (4 GiB
// in 32 KiB blocks: 512 KiB), yet low enough that a foreign file is never
// read whole into memory.
inline constexpr size_t kMaxMetaFileSize = 1024 * 1024;

enum class MetaError {
  kNone,
  kNotFound,     // no such file
  kIo,           // open/read failed; sys_error says why
  kTruncated,    // shorter than its header or its declared body
  kBadMagic,     // not ours
  kBadVersion,   // ours, but from a newer format
  kBadLength,    // trailing bytes, or larger than kMaxMetaFileSize
  kBadChecksum,  // torn or corrupted
  kBadBody,      // checksum fine but the record does not parse or is invalid
};

struct MetaReadResult {
  std::optional<FileMeta> meta;
  MetaError error = MetaError::kNone;
  int sys_error = 0;

  bool ok() const { return meta.has_value(); }
  std::string describe() const;
};

std::vector<uint8_t> encode_meta(const FileMeta& meta);
MetaReadResult decode_meta(std::span<const uint8_t> bytes);
MetaReadResult read_meta_file(FileSystem& fs, const std::filesystem::path& path);

// Writes the task's metadata over <id>.meta in place (creating it if need
// be), with no temporary file, so that an upload costs one metadata inode
// however often its record changes, and with no sync unless `durable` asks
// for one of the file itself (fdatasync; not of its directory entry). Not atomic by itself: a
// crash mid-write leaves a record that fails its checksum or exact-length
// check, which reads as damaged rather than as a mix of old and new. The disk
// writer relies on that: it writes the complete record only after the data
// it vouches for is durable, and acknowledges it only once the record is.
// Returns 0 or an errno.
int overwrite_meta_file(const StoreLayout& layout, const FileMeta& meta, bool durable = false);

}  // namespace ttfs::storage
