#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/task_id.h"

namespace ttfs::storage {

// What the store knows about one offline file. It is written beside the data
// as <id>.meta; `complete` turns true only once data and metadata are durable.
struct FileMeta {
  TaskId task_id;
  uint32_t from_user_id = 0;
  uint32_t to_user_id = 0;
  std::string file_name;
  uint64_t file_size = 0;
  int64_t created_at_unix = 0;
  bool complete = false;
  int64_t completed_at_unix = 0;  // of a complete file: when it became complete; 0 if not kept
  uint64_t durable_bytes = 0;     // of a partial upload: the prefix known to be on stable storage
  // CRC-32C per BlockChecksums::kBlockSize block: all of a complete file's,
  // the leading durable ones of a partial upload; empty for a file stored
  // before checksums were kept.
  std::vector<uint32_t> block_checksums;
  std::optional<uint32_t> file_checksum;  // of a complete file, when its blocks have them

  friend bool operator==(const FileMeta&, const FileMeta&) = default;
};

}  // namespace ttfs::storage
