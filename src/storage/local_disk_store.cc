#include "storage/local_disk_store.h"

#include <spdlog/spdlog.h>

#include <cstring>

#include "storage/local_file_reader.h"
#include "storage/meta_io.h"

namespace ttfs::storage {

LocalDiskStore::LocalDiskStore(std::filesystem::path root, CompletionSink sink, Options options)
    : layout_(std::move(root), options.file_system ? *options.file_system : posix_file_system()),
      direct_io_(options.direct_io),
      writer_(layout_, std::move(sink), std::move(options)) {}

LocalDiskStore::~LocalDiskStore() { stop(); }

void LocalDiskStore::start() {
  FileSystem& fs = layout_.fs();
  std::error_code ec;
  const auto root = std::filesystem::absolute(layout_.root(), ec);
  int err = ec ? ec.value() : 0;
  // Each directory made on the way to the root gets its entry in its parent
  // made durable before anything is put in it: with per-file syncs nothing
  // else would, and a lost parent loses everything under it.
  const std::filesystem::path below_root = root.relative_path();
  std::filesystem::path so_far = root.root_path();
  for (auto part = below_root.begin(); err == 0 && part != below_root.end(); ++part) {
    const std::filesystem::path parent = so_far;
    so_far /= *part;
    bool created = false;
    err = fs.make_dir(so_far, &created);
    if (err == 0 && created) err = fs.sync_dir(parent);
  }
  if (err != 0) {
    // Not fatal here: every begin will then fail with the errno, which the
    // workers report per task.
    spdlog::error("store root {}: {}", layout_.root().string(), std::strerror(err));
  }
  writer_.start();
}

void LocalDiskStore::stop() { writer_.stop(); }

void LocalDiskStore::begin_upload(uint32_t owner, const FileMeta& meta) {
  DiskOp op;
  op.kind = DiskOp::Kind::kBegin;
  op.owner = owner;
  op.task_id = meta.task_id;
  op.meta = meta;
  writer_.submit(std::move(op));
}

void LocalDiskStore::write_segment(uint32_t owner, const TaskId& id, uint64_t offset,
                                   Payload data) {
  DiskOp op;
  op.kind = DiskOp::Kind::kWrite;
  op.owner = owner;
  op.task_id = id;
  op.offset = offset;
  op.data = std::move(data);
  writer_.submit(std::move(op));
}

void LocalDiskStore::finalize_upload(uint32_t owner, const FileMeta& meta) {
  DiskOp op;
  op.kind = DiskOp::Kind::kFinalize;
  op.owner = owner;
  op.task_id = meta.task_id;
  op.meta = meta;
  writer_.submit(std::move(op));
}

void LocalDiskStore::abort_upload(uint32_t owner, const TaskId& id) {
  DiskOp op;
  op.kind = DiskOp::Kind::kAbort;
  op.owner = owner;
  op.task_id = id;
  writer_.submit(std::move(op));
}

std::optional<FileMeta> LocalDiskStore::read_record(const TaskId& id) const {
  auto read = read_meta_file(layout_.fs(), layout_.meta_path(id));
  if (!read.ok()) {
    if (read.error == MetaError::kNotFound) {
      // Routine for a mistyped or expired id; not worth more than debug.
      spdlog::debug("lookup {}: no such offline file", id.str());
    } else {
      spdlog::warn("lookup {}: {}", id.str(), read.describe());
    }
    return std::nullopt;
  }
  if (read.meta->task_id != id) {
    spdlog::warn("lookup {}: metadata names another task {}", id.str(), read.meta->task_id.str());
    return std::nullopt;
  }
  return std::move(read.meta);
}

std::optional<FileMeta> LocalDiskStore::lookup_complete(const TaskId& id) {
  auto meta = read_record(id);
  if (!meta) return std::nullopt;
  if (!meta->complete) {
    spdlog::info("lookup {}: upload not complete", id.str());
    return std::nullopt;
  }
  uint64_t size = 0;
  if (const int err = layout_.fs().file_size(layout_.data_path(id), &size); err != 0) {
    spdlog::warn("lookup {}: data file: {}", id.str(), std::strerror(err));
    return std::nullopt;
  }
  if (size != meta->file_size) {
    spdlog::warn("lookup {}: data file has {} bytes, metadata says {}", id.str(), size,
                 meta->file_size);
    return std::nullopt;
  }
  return meta;
}

std::optional<FileMeta> LocalDiskStore::lookup_partial(const TaskId& id) {
  auto meta = read_record(id);
  if (!meta || meta->complete) return std::nullopt;
  uint64_t size = 0;
  if (layout_.fs().file_size(layout_.data_path(id), &size) != 0 || size < meta->durable_bytes) {
    // Nothing on disk can be vouched for: the upload starts again from zero.
    meta->durable_bytes = 0;
  }
  return meta;
}

std::unique_ptr<FileReader> LocalDiskStore::open_reader(const TaskId& id) {
  auto meta = lookup_complete(id);
  if (!meta) return nullptr;
  return LocalFileReader::open(layout_, *meta, direct_io_);
}

}  // namespace ttfs::storage
