#include "storage/recovery.h"

#include <spdlog/spdlog.h>

#include <cstring>
#include <map>
#include <system_error>

#include "storage/meta_io.h"
#include "storage/posix_io.h"

namespace ttfs::storage {

namespace {

namespace fs = std::filesystem;

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
  const auto read = read_meta_file(layout.meta_path(id));
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
  const int err = found.data ? file_size(layout.data_path(id), &size) : ENOENT;
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

void scan_shard(const StoreLayout& layout, const fs::path& dir, const std::string& shard,
                RecoveryReport& report) {
  // Ordered, so reports and logs come out the same on every run.
  std::map<TaskId, Found> found;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const auto entry = StoreLayout::parse_entry(shard, name);
    if (!entry) {
      problem(report, it->path().string() + ": unexpected entry in a shard");
      continue;
    }
    switch (entry->kind) {
      case StoreLayout::EntryKind::kMetaTmp:
        if (const int err = remove_file(it->path()); err != 0) {
          problem(report, it->path().string() + ": cannot remove: " + std::strerror(err));
        } else {
          ++report.removed_temporaries;
        }
        break;
      case StoreLayout::EntryKind::kData: found[entry->task_id].data = true; break;
      case StoreLayout::EntryKind::kMeta: found[entry->task_id].meta = true; break;
    }
  }
  if (ec) problem(report, dir.string() + ": cannot list: " + ec.message());
  for (const auto& [id, f] : found) classify(layout, id, f, report);
}

}  // namespace

RecoveryReport recover(const StoreLayout& layout) {
  RecoveryReport report;
  std::error_code ec;
  if (!fs::exists(layout.root(), ec)) {
    spdlog::info("recovery: store {} is empty (no root yet)", layout.root().string());
    return report;
  }
  for (fs::directory_iterator it(layout.root(), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (!StoreLayout::is_shard_name(name) || !it->is_directory(type_ec)) {
      problem(report, it->path().string() + ": unexpected entry in the store root");
      continue;
    }
    scan_shard(layout, it->path(), name, report);
  }
  if (ec) problem(report, layout.root().string() + ": cannot list: " + ec.message());
  spdlog::info(
      "recovery of {}: {} complete, {} partial, {} corrupt, {} orphan data files, {} temporaries "
      "removed",
      layout.root().string(), report.complete, report.partial, report.corrupt, report.orphan_data,
      report.removed_temporaries);
  return report;
}

}  // namespace ttfs::storage
