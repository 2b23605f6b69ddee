#include "storage/retention.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <map>
#include <vector>

#include "storage/meta_io.h"

namespace ttfs::storage {

namespace {

std::string shard_name(uint32_t shard) {
  static constexpr char kHex[] = "0123456789abcdef";
  return {kHex[(shard >> 4) & 0xf], kHex[shard & 0xf]};
}

}  // namespace

SweepResult& SweepResult::operator+=(const SweepResult& other) {
  expired_complete += other.expired_complete;
  expired_partial += other.expired_partial;
  expired_damaged += other.expired_damaged;
  errors += other.errors;
  return *this;
}

RetentionSweeper::RetentionSweeper(const StoreLayout& layout, RetentionOptions options)
    : layout_(layout), options_(std::move(options)), started_at_unix_(options_.now_unix()) {}

int64_t RetentionOptions::now_unix() const {
  return clock ? clock() : static_cast<int64_t>(std::time(nullptr));
}

SweepResult RetentionSweeper::step_if_due(std::chrono::steady_clock::time_point now,
                                          const InUse& in_use) {
  SweepResult result;
  if (!options_.enabled()) return result;
  const auto interval =
      std::max<std::chrono::steady_clock::duration>(options_.sweep_period / kShards, {});
  if (next_step_ == std::chrono::steady_clock::time_point{}) {
    // The first step waits its turn: a start has work enough of its own.
    next_step_ = now + interval;
    return result;
  }
  // A writer busy for longer than a step catches up, but never sweeps a
  // shard twice in one call.
  for (uint32_t steps = 0; steps < kShards && now >= next_step_; ++steps) {
    result += sweep_shard(next_shard_, in_use);
    next_shard_ = (next_shard_ + 1) % kShards;
    next_step_ += interval;
  }
  if (now >= next_step_) next_step_ = now + interval;
  return result;
}

SweepResult RetentionSweeper::sweep_all(const InUse& in_use) {
  SweepResult all;
  for (uint32_t shard = 0; shard < kShards; ++shard) all += sweep_shard(shard, in_use);
  return all;
}

SweepResult RetentionSweeper::sweep_shard(uint32_t shard, const InUse& in_use) {
  SweepResult result;
  if (!options_.enabled()) return result;
  const std::string name = shard_name(shard);
  std::vector<DirEntry> entries;
  if (const int err = layout_.fs().list_dir(layout_.root() / name, &entries); err != 0) {
    if (err != ENOENT) {
      spdlog::warn("retention: cannot list {}: {}", (layout_.root() / name).string(),
                   std::strerror(err));
    }
    return result;
  }
  const int64_t now = options_.now_unix();
  // Data files without a record are found too; ordered, so a pass logs the
  // same way every time.
  std::map<TaskId, bool> has_record;
  for (const DirEntry& e : entries) {
    const auto entry = StoreLayout::parse_entry(name, e.name);
    if (!entry || e.is_dir || entry->kind == StoreLayout::EntryKind::kMetaTmp) continue;
    has_record[entry->task_id] |= entry->kind == StoreLayout::EntryKind::kMeta;
  }
  for (const auto& [id, record] : has_record) {
    if (in_use && in_use(id)) continue;
    const auto read =
        record ? read_meta_file(layout_.fs(), layout_.meta_path(id)) : MetaReadResult{};
    if (!read.ok() || read.meta->task_id != id) {
      // A record torn by a crash mid-rewrite, or data whose record a crash
      // never let be written: never a file told DONE, whose record is
      // synced before DONE and not rewritten after. Recovery reported it;
      // it stays a partial retention past the start for an operator to
      // look at, so that crashes cannot pile such files up for ever.
      if (options_.partial_for.count() <= 0 ||
          now - started_at_unix_ < options_.partial_for.count())
        continue;
      count(result.expired_damaged,
            remove_task(id, record ? "damaged record" : "data without a record", -1), result);
      continue;
    }
    const FileMeta& meta = *read.meta;
    if (meta.complete) {
      if (options_.complete_for.count() <= 0) continue;
      const int64_t since =
          meta.completed_at_unix != 0 ? meta.completed_at_unix : meta.created_at_unix;
      if (now - since < options_.complete_for.count()) continue;
      count(result.expired_complete, remove_task(id, "complete file", now - since), result);
    } else {
      if (options_.partial_for.count() <= 0) continue;
      const int64_t since = std::max(meta.created_at_unix, started_at_unix_);
      if (now - since < options_.partial_for.count()) continue;
      count(result.expired_partial,
            remove_task(id, "unfinished upload", now - meta.created_at_unix), result);
    }
  }
  return result;
}

void RetentionSweeper::count(size_t& removed, bool ok, SweepResult& result) {
  if (ok) {
    ++removed;
  } else {
    ++result.errors;
  }
}

bool RetentionSweeper::remove_task(const TaskId& id, const char* what, int64_t age_seconds) {
  int err = layout_.fs().remove(layout_.data_path(id));
  if (err == 0) err = layout_.fs().remove(layout_.meta_path(id));
  if (err != 0) {
    spdlog::warn("retention: cannot remove {} {}: {}", what, id.str(), std::strerror(err));
    return false;
  }
  if (age_seconds >= 0) {
    spdlog::info("retention: removed {} {} ({} s old)", what, id.str(), age_seconds);
  } else {
    spdlog::info("retention: removed {} {}", what, id.str());
  }
  return true;
}

}  // namespace ttfs::storage
