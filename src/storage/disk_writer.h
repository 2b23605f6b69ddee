#pragma once

#include <concurrentqueue/blockingconcurrentqueue.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "storage/block_checksums.h"
#include "storage/direct_mode.h"
#include "storage/disk_completion.h"
#include "storage/disk_op.h"
#include "storage/file_meta.h"
#include "storage/file_system.h"
#include "storage/retention.h"
#include "storage/store_layout.h"

namespace ttfs::storage {

// How the writer makes what it wrote durable.
enum class SyncMethod {
  // syncfs(2): one call covers every file of a group commit, however many.
  kFileSystem,
  // fdatasync of each file and fsync of each directory it touched, a call
  // per file: for file systems whose syncfs does nothing, as on FUSE ones
  // other than virtiofs (LazyFS among them).
  kPerFile,
};

struct DiskWriterOptions {
  size_t max_batch = 8192;  // ops taken off the queue at once
  // How long an idle writer sleeps before looking at the stop flag again;
  // stop() also wakes it at once, so this is only a backstop.
  std::chrono::milliseconds idle_wait{200};
  // Page-aligned segments go to the disk with O_DIRECT, past the page cache:
  // no copy into it and no writeback left for later (which is also what
  // makes a file durable before DONE), but a download then reads the disk,
  // and each write waits for the device. Unaligned pieces (a file's tail)
  // and file systems without O_DIRECT take the buffered path.
  bool direct_io = true;
  // How often the progress of unfinished uploads is made durable and
  // recorded in their metadata (one sync for all of them), so that a restart
  // resumes each from there rather than from zero. Zero turns it off.
  std::chrono::milliseconds checkpoint_interval{1000};
  SyncMethod sync_method = SyncMethod::kFileSystem;
  // What outlives its retention is deleted between batches, on this thread,
  // so that a sweep never races a begin, a finalize or an abort of the same
  // file.
  RetentionOptions retention;
  // Where the store's files go through; nullptr for the real file system.
  // Tests put a simulated disk here (power cuts, full disks, I/O errors).
  FileSystem* file_system = nullptr;
};

// Counters for tests, stats pages and benchmarks; read from any thread.
struct DiskWriterStats {
  uint64_t batches = 0;
  uint64_t ops = 0;
  uint64_t segments = 0;       // write ops that reached a file
  uint64_t pwritev_calls = 0;  // syscalls, including retries after short writes
  uint64_t direct_writes = 0;  // of those, O_DIRECT ones
  uint64_t bytes_written = 0;
  uint64_t write_errors = 0;  // segments completed with an error
  uint64_t finalized = 0;
  uint64_t aborted = 0;
  uint64_t syncs = 0;        // file-system syncs: finalize group commits and checkpoints
  uint64_t checkpoints = 0;  // checkpoints that recorded some upload's progress
  uint64_t expired = 0;      // files retention removed: complete, unfinished and damaged
};

// The disk-writer thread. Producers enqueue ops from any thread; the thread
// takes them off in bulk, applies each file's control ops in order, and
// between them merges that file's adjacent segments into single pwritev
// calls. Its completions go to the sink once per owner per batch.
//
// Like muduo's AsyncLogging, the I/O runs on a whole batch swapped out of the
// shared structure, under no lock; unlike a logger it never drops anything.
class DiskWriter {
 public:
  DiskWriter(StoreLayout layout, CompletionSink sink, DiskWriterOptions options);
  ~DiskWriter();  // stop()s
  DiskWriter(const DiskWriter&) = delete;
  DiskWriter& operator=(const DiskWriter&) = delete;

  void start();
  void stop();  // applies everything submitted before it, then joins; idempotent
  void submit(DiskOp&& op);
  DiskWriterStats stats() const;

 private:
  struct OpenUpload {
    std::unique_ptr<File> file;
    FileMeta meta;  // the partial record, rewritten by checkpoints
    uint64_t file_size = 0;
    // Bytes from offset 0 written without a gap, and the written ranges
    // beyond them ([offset, end)), so that a checkpoint knows what a sync
    // makes durable.
    uint64_t written_prefix = 0;
    std::map<uint64_t, uint64_t> written_ahead;
    BlockChecksums sums;  // of the bytes as they arrived
    int first_error = 0;  // a failed write bars finalize
    DirectMode mode;
    std::vector<size_t> pending;  // indices into batch_ of writes not yet issued
    uint64_t allocated = 0;       // the file's bytes known to have their blocks
  };
  static constexpr uint64_t kAllocateAhead = 4 << 20;
  struct Outbox {
    uint32_t owner;
    std::vector<DiskCompletion> completions;
  };

  void run() noexcept;
  void process(size_t count);
  void apply_begin(DiskOp& op);
  void apply_write(size_t index);
  // Finalizes are committed as a group at the end of a batch: one sync makes
  // all their data durable, each file's metadata is rewritten as complete,
  // and a second sync makes those records durable; two syncs, however many
  // uploads finish together.
  void stage_finalize(size_t index);
  void commit_finalizes();
  bool finalize_pending(const TaskId& id) const;
  void apply_abort(DiskOp& op);
  static void record_written(OpenUpload& upload, uint64_t offset, uint64_t length);
  void checkpoint_if_due();
  void sweep_if_due();
  // Syncs and records each unfinished upload's durable prefix.
  void checkpoint();
  int sync_store();
  // Makes the data of these open uploads, and their files' directory
  // entries, durable: one syncfs, or a sync per file and per directory.
  int make_durable(const std::vector<TaskId>& ids);
  bool syncs_per_file() const { return options_.sync_method == SyncMethod::kPerFile; }
  // A run of one file's pending writes, adjacent in the file, that goes out
  // as one request.
  struct WriteGroup {
    const TaskId* id = nullptr;
    OpenUpload* upload = nullptr;
    size_t first = 0;  // its ops are group_ops_[first, first + count), its iovecs iov_'s
    size_t count = 0;
    uint64_t offset = 0;
    uint64_t total = 0;
    size_t round = 0;  // its place among its file's groups
    bool direct = false;
    int error = 0;
  };
  // Issue the pending writes of every upload, or of one, as groups.
  void flush_all_pending();
  void flush_pending(const TaskId& id, OpenUpload& upload);
  // Appends the upload's pending writes to groups_, merged where adjacent.
  void plan_groups(const TaskId& id, OpenUpload& upload);
  // Writes groups_: all files at once through FileSystem::write_all, one
  // write per file at a time; leaves groups_ empty for the next plan.
  void issue_groups();
  void fill_iov(WriteGroup& g);
  // Sets the file's O_DIRECT for the group's alignment.
  void start_group(WriteGroup& g);
  // Retries a direct write the device refused, then completes the group's ops.
  void finish_group(WriteGroup& g, uint64_t calls);
  OpenedFile open_data_file(const TaskId& id, bool truncate);
  void complete(uint32_t owner, DiskCompletion c);
  void deliver();
  static void bump(std::atomic<uint64_t>& counter, uint64_t by = 1) {
    counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
  }

  const StoreLayout layout_;
  const CompletionSink sink_;
  const DiskWriterOptions options_;
  const size_t iov_max_;  // segments per pwritev
  RetentionSweeper sweeper_;

  moodycamel::BlockingConcurrentQueue<DiskOp> queue_;
  std::atomic<bool> stopping_{false};
  std::mutex lifecycle_mu_;  // start()/stop() only, never on the data path
  std::thread thread_;
  bool started_ = false;
  bool stopped_ = false;

  // Writer-thread state.
  std::vector<DiskOp> batch_;
  std::unordered_map<TaskId, OpenUpload> open_;
  std::vector<TaskId> dirty_;                     // uploads with pending writes in this batch
  std::vector<size_t> finalizing_;                // indices into batch_ awaiting the group commit
  std::unordered_set<TaskId> finalizing_ids_;     // their tasks, looked up for every op
  std::unordered_set<std::string> shards_ready_;  // shard directories known to exist
  std::chrono::steady_clock::time_point next_checkpoint_{};
  bool direct_unsupported_logged_ = false;
  std::vector<size_t> order_;
  std::vector<WriteGroup> groups_;
  std::vector<size_t> group_ops_;
  std::vector<iovec> iov_;
  std::vector<WriteRequest> requests_;
  std::vector<size_t> round_;  // the groups_ of requests_
  std::vector<Outbox> outbox_;

  struct AtomicStats {
    std::atomic<uint64_t> batches{0}, ops{0}, segments{0}, pwritev_calls{0}, direct_writes{0},
        bytes_written{0}, write_errors{0}, finalized{0}, aborted{0}, syncs{0}, checkpoints{0},
        expired{0};
  } stats_;
};

}  // namespace ttfs::storage
