#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

#include "common/task_id.h"
#include "storage/file_system.h"

namespace ttfs::storage {

// Where an offline file lives, and on which file system: <root>/<shard>/<id>.data and <id>.meta. An
// <id>.meta.tmp is only ever left by an older ttfsd, which replaced the
// metadata by rename; recovery removes it. The shard is the
// id's first two hex digits, so no directory grows past 1/256 of the store.
// Paths are built only from a TaskId, whose text form is canonical by
// construction: no client-supplied spelling ever reaches the file system.
class StoreLayout {
 public:
  enum class EntryKind { kData, kMeta, kMetaTmp };
  struct Entry {
    TaskId task_id;
    EntryKind kind;
  };

  static constexpr std::string_view kDataSuffix = ".data";
  static constexpr std::string_view kMetaSuffix = ".meta";
  static constexpr std::string_view kMetaTmpSuffix = ".meta.tmp";

  explicit StoreLayout(std::filesystem::path root, FileSystem& fs = posix_file_system())
      : root_(std::move(root)), fs_(&fs) {}

  const std::filesystem::path& root() const { return root_; }
  FileSystem& fs() const { return *fs_; }
  std::filesystem::path shard_dir(const TaskId& id) const;
  std::filesystem::path data_path(const TaskId& id) const;
  std::filesystem::path meta_path(const TaskId& id) const;
  std::filesystem::path meta_tmp_path(const TaskId& id) const;

  // True for a two-lower-case-hex-digit directory name.
  static bool is_shard_name(std::string_view name);
  // Names a file found while scanning shard directory `shard`: nullopt unless
  // it is <canonical id><suffix> and the id belongs in that shard, so a stray
  // or hand-made file is never mistaken for a task's.
  static std::optional<Entry> parse_entry(std::string_view shard, std::string_view file_name);

 private:
  std::filesystem::path root_;
  FileSystem* fs_;
};

}  // namespace ttfs::storage
