// What durability costs, and how the store shares that cost. Producer
// threads each upload 1 MiB files one after another, waiting for each to be
// durable before the next, as each offline sender waits for its DONE:
//
// - GroupCommit: through the store's disk writer, with O_DIRECT (direct:1,
//   the default) or through the page cache (direct:0), and syncfs (per_file:0,
//   the default) or a sync per file (per_file:1). A finalize waits for the
//   group commit of the batch it arrives in (two syncs of the file system);
//   finalizes that queue while a commit's syncs run share the next one, so
//   the batching delay is the length of one commit, with no timer. With one
//   producer every upload pays for a commit of its own.
// - SyncPerSegment: each producer writes its files itself with an fdatasync
//   after every 32 KiB segment, then makes the file durable the same way.
//
// Counters: syncs_per_file (the writer's syncfs calls, or its data-file and
// directory syncs; a record's own fdatasync is not counted), and the time
// from the finalize to its completion (done_ms_*), i.e. what a sender waits
// for its DONE once its last segment is in.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/local_disk_store.h"
#include "store_bench_util.h"

namespace {

using namespace ttfs;
using namespace ttfs::bench;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kFileSize = 1 << 20;
constexpr size_t kSegments = kFileSize / kSegment;
constexpr size_t kFilesPerRound = 64;  // split among the producers

// One producer's view of the writer's completions: its owner tag is its index.
class ProducerInbox {
 public:
  void deliver(const std::vector<storage::DiskCompletion>& batch) {
    std::lock_guard lock(mu_);
    for (const auto& c : batch) {
      if (c.error != 0) ++errors_;
      if (c.kind == storage::DiskCompletion::Kind::kFinalized) ++finalized_;
    }
    cv_.notify_all();
  }
  // False if anything failed.
  bool wait_finalized(uint64_t files) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return finalized_ >= files || errors_ != 0; });
    return errors_ == 0;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  uint64_t finalized_ = 0;
  uint64_t errors_ = 0;
};

struct Latencies {
  std::mutex mu;
  std::vector<double> done_ms;

  void add(const std::vector<double>& more) {
    std::lock_guard lock(mu);
    done_ms.insert(done_ms.end(), more.begin(), more.end());
  }
  void report(benchmark::State& state) {
    if (done_ms.empty()) return;
    std::sort(done_ms.begin(), done_ms.end());
    double sum = 0;
    for (double ms : done_ms) sum += ms;
    state.counters["done_ms_mean"] = sum / static_cast<double>(done_ms.size());
    state.counters["done_ms_p99"] = done_ms[done_ms.size() * 99 / 100];
  }
};

// Blocks for every file each producer uploads in a round; filling them is
// not part of writing them, and the writer frees what it has written.
std::vector<std::vector<std::vector<Bytes>>> make_blocks(size_t producers, size_t files_each) {
  std::vector<std::vector<std::vector<Bytes>>> all(producers);
  for (auto& files : all) {
    files.resize(files_each);
    for (auto& blocks : files) {
      for (size_t i = 0; i < kSegments; ++i) blocks.push_back(segment_block(i));
    }
  }
  return all;
}

void run_producers(size_t producers, const std::function<bool(size_t)>& produce,
                   benchmark::State& state) {
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (size_t p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      if (!produce(p)) failed = true;
    });
  }
  for (auto& t : threads) t.join();
  if (failed) state.SkipWithError("a write or a sync failed");
}

void finish(benchmark::State& state, uint64_t files) {
  state.SetItemsProcessed(static_cast<int64_t>(files));
  state.SetBytesProcessed(static_cast<int64_t>(files * kFileSize));
}

void BM_SyncPolicy_GroupCommit(benchmark::State& state) {
  const auto producers = static_cast<size_t>(state.range(0));
  const size_t files_each = std::max<size_t>(1, kFilesPerRound / producers);
  ScratchDir dir;
  if (!dir.ok()) return state.SkipWithError("cannot create a scratch directory");
  std::vector<ProducerInbox> inboxes(producers);
  storage::LocalDiskStore::Options options;
  options.checkpoint_interval = {};  // only the commits' own syncs are counted
  options.direct_io = state.range(1) != 0;
  options.sync_method =
      state.range(2) != 0 ? storage::SyncMethod::kPerFile : storage::SyncMethod::kFileSystem;
  storage::LocalDiskStore store(
      dir.path(),
      [&](uint32_t owner, std::vector<storage::DiskCompletion>&& batch) {
        inboxes[owner].deliver(batch);
      },
      options);
  store.start();

  Latencies latencies;
  std::vector<uint64_t> finalized(producers, 0);
  uint64_t files = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto blocks = make_blocks(producers, files_each);
    std::vector<std::vector<TaskId>> ids(producers);
    state.ResumeTiming();

    run_producers(
        producers,
        [&](size_t p) {
          std::vector<double> done_ms;
          const auto owner = static_cast<uint32_t>(p);
          for (size_t f = 0; f < files_each; ++f) {
            const storage::FileMeta meta = meta_for(kFileSize);
            ids[p].push_back(meta.task_id);
            store.begin_upload(owner, meta);
            for (size_t i = 0; i < kSegments; ++i) {
              store.write_segment(owner, meta.task_id, i * kSegment,
                                  Payload{std::move(blocks[p][f][i]), 0, kSegment, std::nullopt});
            }
            const auto asked = Clock::now();
            store.finalize_upload(owner, meta);
            if (!inboxes[p].wait_finalized(++finalized[p])) return false;
            done_ms.push_back(
                std::chrono::duration<double, std::milli>(Clock::now() - asked).count());
          }
          latencies.add(done_ms);
          return true;
        },
        state);
    files += producers * files_each;

    state.PauseTiming();
    for (const auto& list : ids) {
      for (const TaskId& id : list) remove_files(store.layout(), id);
    }
    state.ResumeTiming();
  }
  store.stop();
  finish(state, files);
  if (files > 0) {
    state.counters["syncs_per_file"] =
        static_cast<double>(store.stats().syncs) / static_cast<double>(files);
  }
  latencies.report(state);
}

void BM_SyncPolicy_SyncPerSegment(benchmark::State& state) {
  const auto producers = static_cast<size_t>(state.range(0));
  const size_t files_each = std::max<size_t>(1, kFilesPerRound / producers);
  ScratchDir dir;
  if (!dir.ok()) return state.SkipWithError("cannot create a scratch directory");
  const storage::StoreLayout layout(dir.path());
  std::vector<Bytes> blocks;
  for (size_t i = 0; i < kSegments; ++i) blocks.push_back(segment_block(i));

  uint64_t files = 0;
  for (auto _ : state) {
    std::vector<std::vector<TaskId>> ids(producers);
    run_producers(
        producers,
        [&](size_t p) {
          for (size_t f = 0; f < files_each; ++f) {
            const storage::FileMeta meta = meta_for(kFileSize);
            ids[p].push_back(meta.task_id);
            if (write_file_directly(layout, meta, blocks, true) != 0) return false;
          }
          return true;
        },
        state);
    files += producers * files_each;
    state.PauseTiming();
    for (const auto& list : ids) {
      for (const TaskId& id : list) remove_files(layout, id);
    }
    state.ResumeTiming();
  }
  finish(state, files);
}

BENCHMARK(BM_SyncPolicy_GroupCommit)
    ->ArgNames({"producers", "direct", "per_file"})
    ->ArgsProduct({{1, 4, 16, 64}, {1, 0}, {0, 1}})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SyncPolicy_SyncPerSegment)
    ->ArgName("producers")
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
