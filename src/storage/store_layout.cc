#include "storage/store_layout.h"

namespace ttfs::storage {

std::filesystem::path StoreLayout::shard_dir(const TaskId& id) const {
  return root_ / id.shard_prefix();
}

std::filesystem::path StoreLayout::data_path(const TaskId& id) const {
  return shard_dir(id) / (id.str() + std::string(kDataSuffix));
}

std::filesystem::path StoreLayout::meta_path(const TaskId& id) const {
  return shard_dir(id) / (id.str() + std::string(kMetaSuffix));
}

std::filesystem::path StoreLayout::meta_tmp_path(const TaskId& id) const {
  return shard_dir(id) / (id.str() + std::string(kMetaTmpSuffix));
}

bool StoreLayout::is_shard_name(std::string_view name) {
  if (name.size() != 2) return false;
  for (char c : name) {
    const bool hex = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    if (!hex) return false;
  }
  return true;
}

std::optional<StoreLayout::Entry> StoreLayout::parse_entry(std::string_view shard,
                                                           std::string_view file_name) {
  if (file_name.size() <= TaskId::kTextLength) return std::nullopt;
  const std::string_view suffix = file_name.substr(TaskId::kTextLength);
  EntryKind kind;
  if (suffix == kDataSuffix) {
    kind = EntryKind::kData;
  } else if (suffix == kMetaSuffix) {
    kind = EntryKind::kMeta;
  } else if (suffix == kMetaTmpSuffix) {
    kind = EntryKind::kMetaTmp;
  } else {
    return std::nullopt;
  }
  auto id = TaskId::parse(file_name.substr(0, TaskId::kTextLength));
  if (!id || id->shard_prefix() != shard) return std::nullopt;
  return Entry{*id, kind};
}

}  // namespace ttfs::storage
