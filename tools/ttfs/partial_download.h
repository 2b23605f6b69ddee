#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/client.h"

namespace ttfs::tool {

// A download that may be cut and resumed: the bytes go to PATH.part, and the
// sidecar PATH.part.progress records which segments are known to be on disk,
// so that running the same command again pulls only what is missing. A
// segment is recorded only after the data file was synced (checkpoint), so a
// crash or power cut can lose progress but never mark missing bytes present.
class PartialDownload {
 public:
  // Opens or starts the download of `task_id` into `final_path`. A sidecar
  // left by another task or size is refused (kInvalidArgument), never
  // overwritten: it is someone's progress. kIo for local file errors.
  static client::Result<PartialDownload> open(const std::string& final_path,
                                              const std::string& task_id, uint64_t file_size,
                                              uint32_t segment_size = client::kSegmentSize);

  PartialDownload(PartialDownload&& other) noexcept;
  PartialDownload& operator=(PartialDownload&& other) noexcept;
  PartialDownload(const PartialDownload&) = delete;
  PartialDownload& operator=(const PartialDownload&) = delete;
  ~PartialDownload();

  uint64_t segment_count() const { return count_; }
  uint64_t segments_done() const { return done_; }
  uint64_t bytes_done() const { return bytes_done_; }
  // The offsets still to pull, in file order.
  std::vector<uint64_t> missing_offsets() const;
  bool is_done(uint64_t offset) const;
  uint32_t size_of(uint64_t offset) const;

  const std::string& part_path() const { return part_path_; }

  // Writes into the .part file; valid while this object lives.
  client::WriteAt writer() const;
  // Notes that the segment at `offset` was written (not yet durable).
  void mark_written(uint64_t offset);
  // Syncs the data file, then records every written segment in the sidecar.
  client::Status checkpoint();
  // Every segment is in: syncs, renames PATH.part to PATH, removes the
  // sidecar, and syncs the directory.
  client::Status complete();
  // After a failure with nothing to keep, leaves no trace behind: a first
  // attempt at a wrong task id should not litter the directory.
  void discard_if_empty();

 private:
  PartialDownload() = default;
  void close_files();

  std::string final_path_;
  std::string part_path_;
  std::string sidecar_path_;
  uint64_t file_size_ = 0;
  uint32_t segment_size_ = client::kSegmentSize;
  uint64_t count_ = 0;
  uint64_t done_ = 0;
  uint64_t bytes_done_ = 0;
  size_t header_size_ = 0;
  std::vector<uint8_t> bitmap_;  // bit i: segment i written
  bool dirty_ = false;
  int part_fd_ = -1;
  int sidecar_fd_ = -1;
};

}  // namespace ttfs::tool
