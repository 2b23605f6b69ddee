#include "storage/recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "storage/meta_io.h"

namespace ttfs::storage {

namespace {

struct Found {
  bool data = false;
  bool meta = false;
};

void problem(RecoveryReport& report, std::string text) {
  spdlog::warn("recovery: {}", text);
  report.problems.push_back(std::move(text));
}

void classify(const StoreLayout& layout, const TaskId& id, const Found& found,
              RecoveryReport& report) {
  if (!found.meta) {
    ++report.orphan_data;
    problem(report, layout.data_path(id).string() + ": data file without metadata");
    return;
  }
  const auto read = read_meta_file(layout.fs(), layout.meta_path(id));
  if (!read.ok()) {
    ++report.corrupt;
    problem(report, layout.meta_path(id).string() + ": " + read.describe());
    return;
  }
  const FileMeta& meta = *read.meta;
  if (meta.task_id != id) {
    ++report.corrupt;
    problem(report, layout.meta_path(id).string() + ": names another task " + meta.task_id.str());
    return;
  }
  if (!meta.complete) {
    ++report.partial;
    report.partial_uploads.push_back(meta);
    return;
  }
  uint64_t size = 0;
  const int err = found.data ? layout.fs().file_size(layout.data_path(id), &size) : ENOENT;
  if (err != 0 || size != meta.file_size) {
    ++report.corrupt;
    problem(report, layout.data_path(id).string() +
                        (err != 0 ? std::string(": ") + std::strerror(err)
                                  : ": " + std::to_string(size) + " bytes, metadata says " +
                                        std::to_string(meta.file_size)) +
                        " (complete file not served)");
    return;
  }
  ++report.complete;
}

void scan_shard(const StoreLayout& layout, const std::filesystem::path& dir,
                const std::string& shard, RecoveryReport& report) {
  std::vector<DirEntry> entries;
  if (const int err = layout.fs().list_dir(dir, &entries); err != 0) {
    problem(report, dir.string() + ": cannot list: " + std::strerror(err));
    return;
  }
  // Ordered, so reports and logs come out the same on every run.
  std::map<TaskId, Found> found;
  for (const DirEntry& e : entries) {
    const std::filesystem::path path = dir / e.name;
    const auto entry = StoreLayout::parse_entry(shard, e.name);
    if (!entry || e.is_dir) {
      problem(report, path.string() + ": unexpected entry in a shard");
      continue;
    }
    switch (entry->kind) {
      case StoreLayout::EntryKind::kMetaTmp:
        if (const int err = layout.fs().remove(path); err != 0) {
          problem(report, path.string() + ": cannot remove: " + std::strerror(err));
        } else {
          ++report.removed_temporaries;
        }
        break;
      case StoreLayout::EntryKind::kData: found[entry->task_id].data = true; break;
      case StoreLayout::EntryKind::kMeta: found[entry->task_id].meta = true; break;
    }
  }
  for (const auto& [id, f] : found) classify(layout, id, f, report);
}

}  // namespace

RecoveryReport recover(const StoreLayout& layout) {
  RecoveryReport report;
  std::vector<DirEntry> shards;
  if (const int err = layout.fs().list_dir(layout.root(), &shards); err != 0) {
    if (err == ENOENT) {
      spdlog::info("recovery: store {} is empty (no root yet)", layout.root().string());
    } else {
      problem(report, layout.root().string() + ": cannot list: " + std::strerror(err));
    }
    return report;
  }
  std::sort(shards.begin(), shards.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const DirEntry& e : shards) {
    if (!StoreLayout::is_shard_name(e.name) || !e.is_dir) {
      problem(report, (layout.root() / e.name).string() + ": unexpected entry in the store root");
      continue;
    }
    scan_shard(layout, layout.root() / e.name, e.name, report);
  }
  spdlog::info(
      "recovery of {}: {} complete, {} partial, {} corrupt, {} orphan data files, {} temporaries "
      "removed",
      layout.root().string(), report.complete, report.partial, report.corrupt, report.orphan_data,
      report.removed_temporaries);
  return report;
}

}  // namespace ttfs::storage
