// Shard routing on the IO thread (parse the task id, pick the worker) and the
// worker's task lookup (Worker::tasks_ is an unordered_map keyed by TaskId).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/task_id.h"

namespace {

using namespace ttfs;

// Enough distinct ids that the branch predictor cannot learn one text.
constexpr size_t kTexts = 4096;

void BM_TaskIdParseAndShard(benchmark::State& state) {
  std::vector<std::string> texts;
  texts.reserve(kTexts);
  for (size_t i = 0; i < kTexts; ++i) texts.push_back(TaskId::generate().str());
  // The worker count is configuration, so the modulo must not fold into a
  // constant here either.
  uint64_t workers = 2;
  benchmark::DoNotOptimize(workers);
  size_t i = 0;
  for (auto _ : state) {
    const auto id = TaskId::parse(texts[i++ % kTexts]);
    if (!id) {
      state.SkipWithError("parse refused a canonical id");
      break;
    }
    const uint64_t shard = id->hash() % workers;
    benchmark::DoNotOptimize(shard);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * TaskId::kTextLength));
}
BENCHMARK(BM_TaskIdParseAndShard);

// A worker's map holds one heap object per task; a small struct stands in
// for transfer::Task, whose construction needs a whole worker around it.
struct TaskSlot {
  uint64_t state = 0;
};

void BM_TaskMapLookup(benchmark::State& state) {
  const auto tasks = static_cast<size_t>(state.range(0));
  std::unordered_map<TaskId, std::unique_ptr<TaskSlot>> map;
  std::vector<TaskId> ids;
  ids.reserve(tasks);
  for (size_t i = 0; i < tasks; ++i) {
    ids.push_back(TaskId::generate());
    map.emplace(ids.back(), std::make_unique<TaskSlot>());
  }
  // Lookups arrive in no useful order: interleaved segments of many tasks.
  std::shuffle(ids.begin(), ids.end(), std::mt19937_64(42));
  size_t i = 0;
  for (auto _ : state) {
    // Wrapped by a compare, not `%`: a 64-bit division would be timed too.
    const auto it = map.find(ids[i]);
    if (++i == tasks) i = 0;
    if (it == map.end()) {
      state.SkipWithError("a known task was not found");
      break;
    }
    benchmark::DoNotOptimize(++it->second->state);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_TaskMapLookup)->ArgName("tasks")->Arg(1000)->Arg(100000);

}  // namespace
