#include "storage/disk_writer.h"

#include <pthread.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "storage/meta_io.h"

namespace ttfs::storage {

namespace {

size_t iov_max() {
  const long n = ::sysconf(_SC_IOV_MAX);
  return n > 0 ? static_cast<size_t>(n) : 16;  // 16 is POSIX's guaranteed minimum
}

}  // namespace

DiskWriter::DiskWriter(StoreLayout layout, CompletionSink sink, DiskWriterOptions options)
    : layout_(std::move(layout)),
      sink_(std::move(sink)),
      options_(std::move(options)),
      iov_max_(iov_max()),
      sweeper_(layout_, options_.retention) {
  batch_.resize(std::max<size_t>(options_.max_batch, 1));
}

DiskWriter::~DiskWriter() { stop(); }

void DiskWriter::start() {
  std::lock_guard lock(lifecycle_mu_);
  if (started_ || stopped_) return;
  started_ = true;
  thread_ = std::thread([this] { run(); });
  spdlog::info("disk writer started on {}", layout_.root().string());
}

void DiskWriter::stop() {
  std::lock_guard lock(lifecycle_mu_);
  if (stopped_) return;
  stopped_ = true;
  if (!started_) {
    // A store opened only to read never needs the thread.
    if (queue_.size_approx() == 0) return;
    // Ops queued before a start() that never came are still owed completions.
    started_ = true;
    thread_ = std::thread([this] { run(); });
  }
  stopping_.store(true, std::memory_order_release);
  submit(DiskOp{});  // ends the writer's wait now instead of at its timeout
  thread_.join();
  const auto s = stats();
  spdlog::info(
      "disk writer stopped: {} batches, {} segments in {} pwritev calls, {} bytes, {} write "
      "errors, {} finalized, {} aborted",
      s.batches, s.segments, s.pwritev_calls, s.bytes_written, s.write_errors, s.finalized,
      s.aborted);
}

void DiskWriter::submit(DiskOp&& op) {
  if (!queue_.enqueue(std::move(op))) {
    // Only an allocation failure gets here; dropping an op would lose data
    // silently, so fail loudly instead.
    spdlog::critical("disk writer queue cannot grow (out of memory)");
    std::abort();
  }
}

DiskWriterStats DiskWriter::stats() const {
  DiskWriterStats s;
  s.batches = stats_.batches.load(std::memory_order_relaxed);
  s.ops = stats_.ops.load(std::memory_order_relaxed);
  s.segments = stats_.segments.load(std::memory_order_relaxed);
  s.pwritev_calls = stats_.pwritev_calls.load(std::memory_order_relaxed);
  s.direct_writes = stats_.direct_writes.load(std::memory_order_relaxed);
  s.bytes_written = stats_.bytes_written.load(std::memory_order_relaxed);
  s.write_errors = stats_.write_errors.load(std::memory_order_relaxed);
  s.finalized = stats_.finalized.load(std::memory_order_relaxed);
  s.aborted = stats_.aborted.load(std::memory_order_relaxed);
  s.syncs = stats_.syncs.load(std::memory_order_relaxed);
  s.checkpoints = stats_.checkpoints.load(std::memory_order_relaxed);
  s.expired = stats_.expired.load(std::memory_order_relaxed);
  return s;
}

void DiskWriter::run() noexcept {
  // Named so that top -H and perf show the disk writer apart from the workers.
  pthread_setname_np(pthread_self(), "ttfs-disk");
  moodycamel::ConsumerToken token(queue_);
  next_checkpoint_ = std::chrono::steady_clock::now() + options_.checkpoint_interval;
  for (;;) {
    size_t n =
        queue_.wait_dequeue_bulk_timed(token, batch_.begin(), batch_.size(), options_.idle_wait);
    if (n > 0) process(n);
    checkpoint_if_due();
    sweep_if_due();
    if (stopping_.load(std::memory_order_acquire)) {
      // Everything enqueued before stop() set the flag is visible now; take
      // it all before leaving.
      while ((n = queue_.try_dequeue_bulk(token, batch_.begin(), batch_.size())) > 0) process(n);
      break;
    }
  }
  if (!open_.empty()) {
    // Their progress so far is made durable and recorded, so that the next
    // start resumes them from where they are now.
    if (options_.checkpoint_interval.count() > 0) checkpoint();
    spdlog::info("disk writer: {} uploads left partial at stop (resumable)", open_.size());
  }
  open_.clear();
}

void DiskWriter::process(size_t count) {
  bump(stats_.batches);
  bump(stats_.ops, count);
  for (size_t i = 0; i < count; ++i) {
    DiskOp& op = batch_[i];
    // An op behind a finalize of its own file waits for that commit, so each
    // file still sees its ops in the order they were issued.
    if (op.kind != DiskOp::Kind::kWake && finalize_pending(op.task_id)) {
      flush_all_pending();
      commit_finalizes();
    }
    switch (op.kind) {
      case DiskOp::Kind::kWake: break;
      case DiskOp::Kind::kBegin: apply_begin(op); break;
      case DiskOp::Kind::kWrite: apply_write(i); break;
      case DiskOp::Kind::kFinalize: stage_finalize(i); break;
      case DiskOp::Kind::kAbort: apply_abort(op); break;
    }
  }
  flush_all_pending();
  commit_finalizes();
  for (size_t i = 0; i < count; ++i) {
    // Give the payload blocks back now rather than when the slot is reused.
    batch_[i].data = Payload{};
    batch_[i].meta.reset();
  }
  deliver();
}

void DiskWriter::apply_begin(DiskOp& op) {
  const FileMeta& meta = *op.meta;
  const TaskId& id = meta.task_id;
  auto answer = [&](int error) {
    complete(op.owner, {DiskCompletion::Kind::kBegun, id, 0, 0, error});
  };
  if (id.is_nil()) return answer(EINVAL);

  const std::string shard = id.shard_prefix();
  if (!shards_ready_.contains(shard)) {
    bool created = false;
    if (const int err = layout_.fs().make_dir(layout_.shard_dir(id), &created); err != 0) {
      spdlog::warn("begin {}: cannot create shard directory: {}", id.str(), std::strerror(err));
      return answer(err);
    }
    if (created) {
      // The shard's own entry in the root must survive a crash too, or a
      // file finalized in it later could vanish with it.
      if (const int err = layout_.fs().sync_dir(layout_.root()); err != 0) return answer(err);
    }
    shards_ready_.insert(shard);
  }

  auto it = open_.find(id);
  if (it != open_.end()) {
    flush_pending(id, it->second);  // writes issued before this begin come first
  } else {
    const auto existing = read_meta_file(layout_.fs(), layout_.meta_path(id));
    if (existing.ok() && existing.meta->complete) {
      spdlog::warn("begin {}: refused, the file is already complete", id.str());
      return answer(EEXIST);
    }
    // Only a partial upload of the same file keeps its bytes; anything else
    // under this name (an orphan, another size) must not leak into a new one.
    const bool resume = existing.ok() && existing.meta->file_size == meta.file_size;
    const uint64_t durable = resume ? existing.meta->durable_bytes : 0;
    OpenedFile opened = open_data_file(id, !resume);
    if (!opened.file) {
      spdlog::warn("begin {}: cannot open data file: {}", id.str(), std::strerror(opened.error));
      return answer(opened.error);
    }
    it = open_.emplace(id, OpenUpload{}).first;
    it->second.file = std::move(opened.file);
    it->second.mode = DirectMode(opened.direct);
    it->second.written_prefix = durable;
    it->second.meta.durable_bytes = durable;
    it->second.file_size = meta.file_size;
    it->second.sums = BlockChecksums(meta.file_size);
    if (resume) it->second.sums.adopt(existing.meta->block_checksums);
  }
  OpenUpload& upload = it->second;
  if (upload.file_size != meta.file_size) upload.sums = BlockChecksums(meta.file_size);
  upload.file_size = meta.file_size;

  uint64_t size = 0;
  int err = upload.file->size(&size);
  if (err == 0 && size > meta.file_size) err = upload.file->truncate(meta.file_size);
  if (err == 0 && size < upload.meta.durable_bytes) {
    // Nothing can be vouched for; lookup_partial() told the worker the same,
    // so the upload starts again from zero.
    spdlog::warn("begin {}: data is {} bytes, shorter than its recorded durable {}", id.str(), size,
                 upload.meta.durable_bytes);
    upload.meta.durable_bytes = upload.written_prefix = 0;
    upload.written_ahead.clear();
    upload.sums = BlockChecksums(meta.file_size);
  }
  if (err == 0 && meta.durable_bytes > upload.meta.durable_bytes) {
    // The worker resumes after a prefix that is no longer here (retention or
    // an abort removed the partial upload after it looked): asking only for
    // the rest would leave a hole in the file.
    spdlog::warn("begin {}: resumes after byte {}, but only {} are stored", id.str(),
                 meta.durable_bytes, upload.meta.durable_bytes);
    err = ESTALE;
  }
  if (err == 0) upload.allocated = std::min(size, meta.file_size);
  if (err == 0) {
    // The partial record is what a restart knows the upload by. It needs no
    // sync of its own: the finalize's first sync takes it along.
    FileMeta partial = meta;
    partial.complete = false;
    partial.durable_bytes = upload.meta.durable_bytes;  // what an earlier checkpoint recorded
    partial.block_checksums = upload.sums.leading(partial.durable_bytes);
    err = overwrite_meta_file(layout_, partial);
    if (err == 0) upload.meta = std::move(partial);
  }
  if (err != 0) {
    spdlog::warn("begin {}: {}", id.str(), std::strerror(err));
    open_.erase(it);
  }
  answer(err);
}

OpenedFile DiskWriter::open_data_file(const TaskId& id, bool truncate) {
  OpenedFile opened = layout_.fs().open(layout_.data_path(id),
                                        truncate ? OpenMode::kWriteTruncated : OpenMode::kWrite,
                                        options_.direct_io);
  if (opened.file && options_.direct_io && !opened.direct && !direct_unsupported_logged_) {
    // Buffered writes with the same syncs are just as durable there.
    direct_unsupported_logged_ = true;
    spdlog::info("{} does not take O_DIRECT; writing through the page cache",
                 layout_.root().string());
  }
  return opened;
}

void DiskWriter::apply_write(size_t index) {
  DiskOp& op = batch_[index];
  const uint64_t length = op.data.size();
  auto it = open_.find(op.task_id);
  int error = 0;
  if (op.data.offset > op.data.block.size() || length > op.data.block.size() - op.data.offset) {
    error = EINVAL;  // a view past its own block: never hand that to the kernel
  } else if (it == open_.end()) {
    error = EBADF;
  } else if (length > it->second.file_size || op.offset > it->second.file_size - length) {
    error = EINVAL;  // never write past the declared end
  } else if (length == 0) {
    error = 0;
  } else {
    OpenUpload& upload = it->second;
    if (upload.pending.empty()) dirty_.push_back(op.task_id);
    upload.pending.push_back(index);
    return;
  }
  if (error != 0) bump(stats_.write_errors);
  complete(op.owner, {DiskCompletion::Kind::kWritten, op.task_id, op.offset, length, error});
}

void DiskWriter::flush_all_pending() {
  for (const TaskId& id : dirty_) {
    auto it = open_.find(id);
    if (it != open_.end()) plan_groups(it->first, it->second);
  }
  dirty_.clear();
  issue_groups();
}

void DiskWriter::flush_pending(const TaskId& id, OpenUpload& upload) {
  plan_groups(id, upload);
  issue_groups();
}

void DiskWriter::issue_groups() {
  // Every group's iovecs, laid out once so that the pointers stay put.
  iov_.resize(group_ops_.size());
  size_t rounds = 0;
  for (WriteGroup& g : groups_) {
    fill_iov(g);
    rounds = std::max(rounds, g.round + 1);
  }
  // The k-th group of each file goes out in round k, so that no file ever
  // has two writes in flight (each write sets the file's O_DIRECT flag for
  // itself) and overlapping rewrites land in order.
  for (size_t round = 0; round < rounds; ++round) {
    requests_.clear();
    round_.clear();
    for (size_t k = 0; k < groups_.size(); ++k) {
      WriteGroup& g = groups_[k];
      if (g.round != round) continue;
      start_group(g);
      if (g.error != 0) {
        finish_group(g, 0);
        continue;
      }
      round_.push_back(k);
      requests_.push_back(
          {g.upload->file.get(), &iov_[g.first], static_cast<int>(g.count), g.offset});
    }
    if (!requests_.empty()) layout_.fs().write_all(requests_);
    for (size_t r = 0; r < round_.size(); ++r) {
      WriteGroup& g = groups_[round_[r]];
      g.error = requests_[r].error;
      finish_group(g, requests_[r].syscalls);
    }
  }
  groups_.clear();
  group_ops_.clear();
}

void DiskWriter::plan_groups(const TaskId& id, OpenUpload& upload) {
  if (upload.pending.empty()) return;
  order_.swap(upload.pending);
  upload.pending.clear();

  // Batch indices grow in issue order, so they break offset ties the way
  // the producer meant them.
  auto by_offset = [this](size_t a, size_t b) {
    return batch_[a].offset != batch_[b].offset ? batch_[a].offset < batch_[b].offset : a < b;
  };
  std::sort(order_.begin(), order_.end(), by_offset);
  bool overlap = false;
  for (size_t k = 1; k < order_.size() && !overlap; ++k) {
    const DiskOp& prev = batch_[order_[k - 1]];
    overlap = batch_[order_[k]].offset < prev.offset + prev.data.size();
  }
  const size_t first_group = groups_.size();
  auto add_group = [&](size_t start, size_t end) {
    WriteGroup g;
    g.round = groups_.size() - first_group;
    g.id = &id;
    g.upload = &upload;
    g.first = group_ops_.size();
    g.count = end - start;
    g.offset = batch_[order_[start]].offset;
    group_ops_.insert(group_ops_.end(), order_.begin() + static_cast<ptrdiff_t>(start),
                      order_.begin() + static_cast<ptrdiff_t>(end));
    groups_.push_back(g);
  };
  if (overlap) {
    // Overlapping rewrites must land in issue order for the last to win;
    // they do not happen in a sane upload, so no merging for them.
    std::sort(order_.begin(), order_.end());
    for (size_t k = 0; k < order_.size(); ++k) add_group(k, k + 1);
  } else {
    size_t start = 0;
    while (start < order_.size()) {
      size_t end = start + 1;
      uint64_t next = batch_[order_[start]].offset + batch_[order_[start]].data.size();
      while (end < order_.size() && end - start < iov_max_ && batch_[order_[end]].offset == next) {
        next += batch_[order_[end]].data.size();
        ++end;
      }
      add_group(start, end);
      start = end;
    }
  }
  order_.clear();
}

void DiskWriter::fill_iov(WriteGroup& g) {
  g.total = 0;
  for (size_t k = 0; k < g.count; ++k) {
    const Payload& data = batch_[group_ops_[g.first + k]].data;
    // pwritev only reads through iov_base; the cast is the iovec API's, not a write.
    iov_[g.first + k] = {const_cast<uint8_t*>(data.data()), data.size()};
    g.total += data.size();
  }
}

void DiskWriter::start_group(WriteGroup& g) {
  if (const uint64_t end = g.offset + g.total; end > g.upload->allocated) {
    // Written into blocks already allocated and within the file's size, an
    // O_DIRECT write allocates nothing, and the ring issues it at once
    // instead of handing it to a kernel worker thread. Reserved a few MiB
    // ahead, not whole: a client that names a large file and sends nothing
    // must not take the disk with it. Only a speed-up: when it fails (a
    // full disk), the write goes ahead and says what is wrong itself.
    const uint64_t ahead = std::min(g.upload->file_size, end + kAllocateAhead);
    const int err = g.upload->file->allocate(ahead);
    if (err == 0) g.upload->allocated = ahead;
    if (err == EOPNOTSUPP) g.upload->allocated = g.upload->file_size;  // never ask again
  }
  bool aligned = direct_io_aligned(g.offset) && direct_io_aligned(g.total);
  for (size_t k = 0; k < g.count && aligned; ++k) {
    const iovec& v = iov_[g.first + k];
    aligned =
        direct_io_aligned(reinterpret_cast<uintptr_t>(v.iov_base)) && direct_io_aligned(v.iov_len);
  }
  g.error = g.upload->mode.prepare(*g.upload->file, aligned, &g.direct);
}

void DiskWriter::finish_group(WriteGroup& g, uint64_t calls) {
  OpenUpload& upload = *g.upload;
  bump(stats_.pwritev_calls, calls);
  if (g.direct) bump(stats_.direct_writes, calls);
  if (g.error == EINVAL && g.direct) {
    // The device wants a larger alignment than a page, or a short direct
    // write left the rest unaligned: this file goes buffered from here on,
    // and the whole range is written again (rewriting is harmless).
    g.error = upload.mode.give_up(*upload.file);
    if (g.error == 0) {
      fill_iov(g);  // the write consumed it
      calls = 0;
      g.error = upload.file->write_at(&iov_[g.first], static_cast<int>(g.count), g.offset, &calls);
      bump(stats_.pwritev_calls, calls);
    }
  }
  for (size_t k = 0; k < g.count; ++k) {
    const DiskOp& op = batch_[group_ops_[g.first + k]];
    complete(op.owner, {DiskCompletion::Kind::kWritten, *g.id, op.offset, op.data.size(), g.error});
  }
  bump(stats_.segments, g.count);
  if (g.error != 0) {
    bump(stats_.write_errors, g.count);
    if (upload.first_error == 0) {
      // Once per upload: a full disk would otherwise log every segment.
      spdlog::warn("write {} at {}+{}: {}", g.id->str(), g.offset, g.total, std::strerror(g.error));
      upload.first_error = g.error;
    }
    return;
  }
  bump(stats_.bytes_written, g.total);
  record_written(upload, g.offset, g.total);
  for (size_t k = 0; k < g.count; ++k) {
    const DiskOp& op = batch_[group_ops_[g.first + k]];
    upload.sums.record(op.offset, op.data.span(), op.data.crc32c);
  }
}

void DiskWriter::record_written(OpenUpload& upload, uint64_t offset, uint64_t length) {
  if (offset > upload.written_prefix) {
    auto [it, fresh] = upload.written_ahead.emplace(offset, offset + length);
    if (!fresh) it->second = std::max(it->second, offset + length);
    return;
  }
  upload.written_prefix = std::max(upload.written_prefix, offset + length);
  // Ranges that now touch the prefix join it.
  auto& ahead = upload.written_ahead;
  while (!ahead.empty() && ahead.begin()->first <= upload.written_prefix) {
    upload.written_prefix = std::max(upload.written_prefix, ahead.begin()->second);
    ahead.erase(ahead.begin());
  }
}

int DiskWriter::sync_store() {
  bump(stats_.syncs);
  return layout_.fs().sync_all(layout_.root());
}

int DiskWriter::make_durable(const std::vector<TaskId>& ids) {
  if (!syncs_per_file()) return sync_store();
  std::unordered_set<std::string> shards;
  for (const TaskId& id : ids) {
    bump(stats_.syncs);
    if (const int err = open_.at(id).file->sync(); err != 0) return err;
    shards.insert(id.shard_prefix());
  }
  for (const std::string& shard : shards) {
    bump(stats_.syncs);
    if (const int err = layout_.fs().sync_dir(layout_.root() / shard); err != 0) return err;
  }
  return 0;
}

void DiskWriter::checkpoint_if_due() {
  if (options_.checkpoint_interval.count() <= 0) return;
  const auto now = std::chrono::steady_clock::now();
  if (now < next_checkpoint_) return;
  next_checkpoint_ = now + options_.checkpoint_interval;
  checkpoint();
}

void DiskWriter::sweep_if_due() {
  const SweepResult swept = sweeper_.step_if_due(
      std::chrono::steady_clock::now(), [this](const TaskId& id) { return open_.contains(id); });
  bump(stats_.expired, swept.expired_complete + swept.expired_partial + swept.expired_damaged);
}

void DiskWriter::checkpoint() {
  // The prefixes are taken before the sync, so the sync covers them; a
  // record is rewritten only after it, so it never claims more than is on
  // disk. Each record is itself made durable by the next sync.
  std::vector<std::pair<TaskId, uint64_t>> due;
  for (const auto& [id, upload] : open_) {
    if (upload.first_error == 0 && upload.written_prefix > upload.meta.durable_bytes) {
      due.emplace_back(id, upload.written_prefix);
    }
  }
  if (due.empty()) return;
  std::vector<TaskId> ids;
  for (const auto& entry : due) ids.push_back(entry.first);
  if (const int err = make_durable(ids); err != 0) {
    spdlog::warn("checkpoint: sync failed: {}", std::strerror(err));
    return;
  }
  for (const auto& [id, prefix] : due) {
    OpenUpload& upload = open_.at(id);
    FileMeta record = upload.meta;
    record.durable_bytes = prefix;
    record.block_checksums = upload.sums.leading(prefix);
    if (const int err = overwrite_meta_file(layout_, record, syncs_per_file()); err != 0) {
      spdlog::warn("checkpoint {}: {}", id.str(), std::strerror(err));
      continue;
    }
    upload.meta = std::move(record);
  }
  bump(stats_.checkpoints);
}

bool DiskWriter::finalize_pending(const TaskId& id) const {
  return !finalizing_ids_.empty() && finalizing_ids_.contains(id);
}

void DiskWriter::stage_finalize(size_t index) {
  DiskOp& op = batch_[index];
  const FileMeta& meta = *op.meta;
  const TaskId& id = meta.task_id;
  auto it = open_.find(id);
  if (it == open_.end()) {
    complete(op.owner, {DiskCompletion::Kind::kFinalized, id, 0, 0, EBADF});
    return;
  }
  OpenUpload& upload = it->second;
  flush_pending(id, upload);

  int error = upload.first_error;
  if (error == 0 && meta.file_size != upload.file_size) error = EINVAL;
  if (error == 0) {
    uint64_t size = 0;
    error = upload.file->size(&size);
    if (error == 0 && size != meta.file_size) {
      spdlog::warn("finalize {}: data is {} bytes, expected {}", id.str(), size, meta.file_size);
      error = EINVAL;
    }
  }
  if (error == 0 && !upload.sums.all_known()) {
    // Some block was written in pieces; its checksum comes from the file.
    bool direct = false;
    error = upload.mode.prepare(*upload.file, false, &direct);
    if (error == 0) error = upload.sums.fill_unknown(*upload.file);
  }
  if (error != 0) {
    // The upload stays open, so an abort (or a retry) can still find it.
    spdlog::warn("finalize {}: {}", id.str(), std::strerror(error));
    complete(op.owner, {DiskCompletion::Kind::kFinalized, id, 0, 0, error});
    return;
  }
  finalizing_.push_back(index);
  finalizing_ids_.insert(id);
}

void DiskWriter::commit_finalizes() {
  if (finalizing_.empty()) return;
  // Data before the metadata that vouches for it: the first sync makes every
  // file's data (and its partial record) durable, and only then is each
  // record rewritten as complete, so a crash leaves a partial or a damaged
  // record, never a complete-looking file with missing data. The second sync
  // (or, syncing per file, each record's own) makes the complete records
  // durable before anyone is told.
  std::vector<TaskId> ids;
  for (size_t index : finalizing_) ids.push_back(batch_[index].task_id);
  int error = make_durable(ids);
  std::vector<size_t> published;
  for (size_t index : finalizing_) {
    const DiskOp& op = batch_[index];
    int err = error;
    if (err == 0) {
      const BlockChecksums& sums = open_.at(op.task_id).sums;
      FileMeta done = *op.meta;
      done.complete = true;
      done.durable_bytes = 0;
      done.completed_at_unix = options_.retention.now_unix();
      done.block_checksums = sums.all();
      done.file_checksum = sums.file_checksum();
      err = overwrite_meta_file(layout_, done, syncs_per_file());
    }
    if (err == 0) {
      published.push_back(index);
      continue;
    }
    spdlog::warn("finalize {}: {}", op.task_id.str(), std::strerror(err));
    complete(op.owner, {DiskCompletion::Kind::kFinalized, op.task_id, 0, 0, err});
  }
  finalizing_.clear();
  finalizing_ids_.clear();
  if (published.empty()) return;
  // Synced one by one as they were written, or all at once now.
  error = syncs_per_file() ? 0 : sync_store();
  for (size_t index : published) {
    const DiskOp& op = batch_[index];
    if (error == 0) {
      open_.erase(op.task_id);
      bump(stats_.finalized);
    } else {
      spdlog::warn("finalize {}: {}", op.task_id.str(), std::strerror(error));
    }
    complete(op.owner, {DiskCompletion::Kind::kFinalized, op.task_id, 0, 0, error});
  }
}

void DiskWriter::apply_abort(DiskOp& op) {
  const TaskId& id = op.task_id;
  auto it = open_.find(id);
  if (it != open_.end()) {
    // Writes issued before the abort are moot; answer them without I/O.
    for (size_t index : it->second.pending) {
      const DiskOp& w = batch_[index];
      complete(w.owner, {DiskCompletion::Kind::kWritten, id, w.offset, w.data.size(), ECANCELED});
      bump(stats_.write_errors);
    }
    open_.erase(it);
  }
  int error = layout_.fs().remove(layout_.data_path(id));
  if (const int err = layout_.fs().remove(layout_.meta_path(id)); error == 0) error = err;
  if (error != 0) spdlog::warn("abort {}: {}", id.str(), std::strerror(error));
  bump(stats_.aborted);
  complete(op.owner, {DiskCompletion::Kind::kAborted, id, 0, 0, error});
}

void DiskWriter::complete(uint32_t owner, DiskCompletion c) {
  for (Outbox& box : outbox_) {
    if (box.owner == owner) {
      box.completions.push_back(c);
      return;
    }
  }
  outbox_.push_back({owner, {}});
  outbox_.back().completions.push_back(c);
}

void DiskWriter::deliver() {
  for (Outbox& box : outbox_) {
    if (box.completions.empty()) continue;
    auto completions = std::move(box.completions);
    box.completions.clear();
    if (!sink_) continue;
    try {
      sink_(box.owner, std::move(completions));
    } catch (const std::exception& e) {
      // The sink runs on this thread; its failure must not end the writer.
      spdlog::error("disk completion sink threw: {}", e.what());
    } catch (...) {
      spdlog::error("disk completion sink threw");
    }
  }
}

}  // namespace ttfs::storage
