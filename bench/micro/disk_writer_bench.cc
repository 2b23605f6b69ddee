// Writing one offline file: the store's disk-writer thread, which takes the
// queued segments in batches and merges adjacent ones into pwritev calls,
// against a plain pwrite(2) per segment and a pwrite + fdatasync per segment
// on the calling thread. Every variant opens the file, writes the partial
// metadata, and finalizes once (fdatasync + synced metadata), as an upload
// does, so they differ only in how the segments reach the file.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "storage/local_disk_store.h"
#include "store_bench_util.h"

namespace {

using namespace ttfs;
using namespace ttfs::bench;

void report(benchmark::State& state, uint64_t file_size) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file_size));
  state.counters["segments"] = static_cast<double>(file_size / kSegment);
}

// Counts the writer's completions as its sink is called (on the writer
// thread) and lets the benchmark thread wait for a file's finalize.
class Completions {
 public:
  storage::CompletionSink sink() {
    return [this](uint32_t, std::vector<storage::DiskCompletion>&& batch) {
      std::lock_guard lock(mu_);
      for (const auto& c : batch) {
        if (c.error != 0) ++errors_;
        if (c.kind == storage::DiskCompletion::Kind::kWritten) ++written_;
        if (c.kind == storage::DiskCompletion::Kind::kFinalized) ++finalized_;
      }
      cv_.notify_all();
    };
  }

  // Returns false if any op so far failed.
  bool wait_finalized(uint64_t files, uint64_t segments) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finalized_ >= files || errors_ != 0; });
    return errors_ == 0 && written_ == segments;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t written_ = 0;
  uint64_t finalized_ = 0;
  uint64_t errors_ = 0;
};

void BM_DiskWriter_Coalesced(benchmark::State& state) {
  const auto file_size = static_cast<uint64_t>(state.range(0));
  const size_t segments = file_size / kSegment;
  ScratchDir dir;
  if (!dir.ok()) return state.SkipWithError("cannot create a scratch directory");
  Completions completions;
  storage::LocalDiskStore store(dir.path(), completions.sink());
  store.start();

  std::vector<Bytes> blocks;
  uint64_t files = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // The writer frees the payloads it has written, so each file needs its
    // own blocks; filling them is not part of writing them.
    blocks.clear();
    for (size_t i = 0; i < segments; ++i) blocks.push_back(segment_block(i));
    const storage::FileMeta meta = meta_for(file_size);
    state.ResumeTiming();

    store.begin_upload(0, meta);
    for (size_t i = 0; i < segments; ++i) {
      store.write_segment(0, meta.task_id, i * kSegment,
                          Payload{std::move(blocks[i]), 0, kSegment, std::nullopt});
    }
    store.finalize_upload(0, meta);
    ++files;
    if (!completions.wait_finalized(files, files * segments)) {
      state.SkipWithError("the disk writer reported an error");
      break;
    }

    state.PauseTiming();
    remove_files(store.layout(), meta.task_id);
    state.ResumeTiming();
  }
  store.stop();
  const storage::DiskWriterStats s = store.stats();
  report(state, file_size);
  if (s.pwritev_calls > 0) {
    state.counters["segs_per_pwritev"] =
        static_cast<double>(s.segments) / static_cast<double>(s.pwritev_calls);
  }
  state.counters["direct_writes"] = static_cast<double>(s.direct_writes);
  if (s.batches > 0) {
    state.counters["ops_per_batch"] = static_cast<double>(s.ops) / static_cast<double>(s.batches);
  }
}

// The baselines run on the benchmark thread with the store's own layout and
// metadata code, so only the segment writes differ from the writer's path.
void write_files_directly(benchmark::State& state, bool sync_each_segment) {
  const auto file_size = static_cast<uint64_t>(state.range(0));
  const size_t segments = file_size / kSegment;
  ScratchDir dir;
  if (!dir.ok()) return state.SkipWithError("cannot create a scratch directory");
  const storage::StoreLayout layout(dir.path());
  std::vector<Bytes> blocks;
  for (size_t i = 0; i < segments; ++i) blocks.push_back(segment_block(i));

  for (auto _ : state) {
    const storage::FileMeta meta = meta_for(file_size);
    const TaskId& id = meta.task_id;
    const int err = write_file_directly(layout, meta, blocks, sync_each_segment);
    if (err != 0) {
      state.SkipWithError(std::strerror(err));
      break;
    }
    state.PauseTiming();
    remove_files(layout, id);
    state.ResumeTiming();
  }
  report(state, file_size);
}

void BM_DiskWriter_PwritePerSegment(benchmark::State& state) { write_files_directly(state, false); }
void BM_DiskWriter_FdatasyncPerSegment(benchmark::State& state) {
  write_files_directly(state, true);
}

constexpr int64_t kSmallFile = 1 << 20;
constexpr int64_t kLargeFile = 32 << 20;

BENCHMARK(BM_DiskWriter_Coalesced)->Arg(kSmallFile)->Arg(kLargeFile)->UseRealTime();
BENCHMARK(BM_DiskWriter_PwritePerSegment)->Arg(kSmallFile)->Arg(kLargeFile)->UseRealTime();
BENCHMARK(BM_DiskWriter_FdatasyncPerSegment)->Arg(kSmallFile)->Arg(kLargeFile)->UseRealTime();

}  // namespace
