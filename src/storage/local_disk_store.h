#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "storage/disk_writer.h"
#include "storage/offline_store.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// The embedded OfflineStore: files under a local directory, written by one
// DiskWriter thread, read directly by the workers.
class LocalDiskStore final : public OfflineStore {
 public:
  using Options = DiskWriterOptions;

  LocalDiskStore(std::filesystem::path root, CompletionSink sink, Options options = {});
  ~LocalDiskStore() override;  // stop()s

  const StoreLayout& layout() const { return layout_; }
  DiskWriterStats stats() const { return writer_.stats(); }

  // Creates the root directory if needed; recover() should have run before.
  void start() override;
  void stop() override;

  void begin_upload(uint32_t owner, const FileMeta& meta) override;
  void write_segment(uint32_t owner, const TaskId& id, uint64_t offset, Payload data) override;
  void finalize_upload(uint32_t owner, const FileMeta& meta) override;
  void abort_upload(uint32_t owner, const TaskId& id) override;

  std::optional<FileMeta> lookup_complete(const TaskId& id) override;
  std::optional<FileMeta> lookup_partial(const TaskId& id) override;
  std::unique_ptr<FileReader> open_reader(const TaskId& id) override;

 private:
  // The task's metadata record if it is readable and names this task; why
  // not is logged.
  std::optional<FileMeta> read_record(const TaskId& id) const;

  const StoreLayout layout_;
  const bool direct_io_;
  DiskWriter writer_;
};

}  // namespace ttfs::storage
