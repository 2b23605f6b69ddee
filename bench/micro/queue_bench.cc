// The IO-thread-to-worker hand-off: the worker's own queue type carrying
// PULL_DATA_RSP events whose 32 KiB payload travels by move, one producer
// thread (an IO thread) and one consumer thread (a worker).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <iterator>
#include <memory>
#include <thread>
#include <type_traits>
#include <variant>
#include <vector>

#include "transfer/events.h"
#include "transfer/worker.h"

namespace {

using namespace ttfs;
using transfer::WorkerEvent;
using Queue = transfer::Worker::Queue;

// The queue moves events into its slots; a throwing move would be a copy.
static_assert(std::is_nothrow_move_constructible_v<WorkerEvent>);

constexpr size_t kSegment = 32 * 1024;
constexpr size_t kEventsPerRound = 1024;

std::vector<WorkerEvent> make_events(size_t n) {
  const TaskId task = TaskId::generate();
  std::vector<WorkerEvent> events;
  events.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    transfer::PullResponse rsp;
    rsp.conn = {0, 1, 1};
    rsp.seq = static_cast<uint16_t>(i);
    rsp.task = task;
    rsp.user_id = 1001;
    rsp.offset = static_cast<uint32_t>(i * kSegment);
    // As received: the block is the whole PDU, the payload a view into it.
    rsp.data.block = Bytes(kSegment + 80);
    std::memset(rsp.data.block.data(), 0x5a, rsp.data.block.size());
    rsp.data.offset = 80;
    rsp.data.length = kSegment;
    events.emplace_back(std::move(rsp));
  }
  return events;
}

// A worker stand-in that does nothing with an event but look at it and hand
// its payload back, so the producer can reuse the blocks: the round then
// measures the hand-off rather than malloc and free of 32 KiB blocks.
class Consumer {
 public:
  // batch 0: single wait_dequeue without a token.
  Consumer(Queue& queue, size_t batch) : queue_(queue), batch_(batch) {
    returned_.reserve(kEventsPerRound);
    thread_ = std::thread([this] { run(); });
  }
  ~Consumer() {
    queue_.enqueue(WorkerEvent{transfer::ConnClosed{}});
    thread_.join();
  }

  // Blocks until `target` events have been consumed in all, then gives back
  // what the consumer holds.
  void take_back(uint64_t target, std::vector<WorkerEvent>& into) {
    while (consumed_.load(std::memory_order_acquire) < target) std::this_thread::yield();
    into.swap(returned_);
    returned_.clear();
  }

  uint64_t payload_bytes() const { return payload_bytes_; }

 private:
  void run() {
    moodycamel::ConsumerToken token(queue_);
    std::vector<WorkerEvent> buf(std::max<size_t>(batch_, 1));
    bool stop = false;
    while (!stop) {
      size_t n = 1;
      if (batch_ == 0) {
        queue_.wait_dequeue(buf[0]);
      } else {
        n = queue_.wait_dequeue_bulk(token, buf.begin(), batch_);
      }
      uint64_t got = 0;
      for (size_t i = 0; i < n; ++i) {
        auto* rsp = std::get_if<transfer::PullResponse>(&buf[i]);
        if (rsp == nullptr) {
          stop = true;  // the destructor's ConnClosed
          continue;
        }
        benchmark::DoNotOptimize(rsp->data.data());
        payload_bytes_ += rsp->data.size();
        returned_.push_back(std::move(buf[i]));
        ++got;
      }
      consumed_.store(consumed_.load(std::memory_order_relaxed) + got, std::memory_order_release);
    }
  }

  Queue& queue_;
  const size_t batch_;
  std::vector<WorkerEvent> returned_;
  uint64_t payload_bytes_ = 0;
  std::atomic<uint64_t> consumed_{0};
  std::thread thread_;
};

void finish(benchmark::State& state, uint64_t consumed, uint64_t payload_bytes) {
  if (consumed != state.iterations() * kEventsPerRound || payload_bytes != consumed * kSegment) {
    state.SkipWithError("consumer did not drain every event");
  }
  state.SetItemsProcessed(static_cast<int64_t>(consumed));
  state.counters["event_size"] = sizeof(WorkerEvent);
}

// One enqueue and one wait_dequeue per event, no tokens: the naive use.
void BM_QueueHandOff_Single(benchmark::State& state) {
  Queue queue;
  std::vector<WorkerEvent> events = make_events(kEventsPerRound);
  uint64_t target = 0;
  uint64_t payload_bytes = 0;
  {
    Consumer consumer(queue, 0);
    for (auto _ : state) {
      for (auto& event : events) {
        if (!queue.enqueue(std::move(event))) state.SkipWithError("enqueue failed");
      }
      target += kEventsPerRound;
      consumer.take_back(target, events);
    }
    // Read only once the consumer has been joined.
    payload_bytes = consumer.payload_bytes();
  }
  finish(state, target, payload_bytes);
}
BENCHMARK(BM_QueueHandOff_Single)->UseRealTime();

// What the server does: a producer token per (IO thread, worker), a consumer
// token per worker, and bulk operations of `batch` events on both sides.
void BM_QueueHandOff_Bulk(benchmark::State& state) {
  const auto batch = static_cast<size_t>(state.range(0));
  Queue queue;
  // Held by pointer, as the router holds its tokens.
  const auto producer = std::make_unique<moodycamel::ProducerToken>(queue);
  std::vector<WorkerEvent> events = make_events(kEventsPerRound);
  uint64_t target = 0;
  uint64_t payload_bytes = 0;
  {
    Consumer consumer(queue, batch);
    for (auto _ : state) {
      for (size_t i = 0; i < events.size(); i += batch) {
        const size_t n = std::min(batch, events.size() - i);
        const auto first = events.begin() + static_cast<ptrdiff_t>(i);
        if (!queue.enqueue_bulk(*producer, std::make_move_iterator(first), n)) {
          state.SkipWithError("enqueue_bulk failed");
        }
      }
      target += kEventsPerRound;
      consumer.take_back(target, events);
    }
    payload_bytes = consumer.payload_bytes();
  }
  finish(state, target, payload_bytes);
}
BENCHMARK(BM_QueueHandOff_Bulk)->ArgName("batch")->Arg(1)->Arg(16)->Arg(256)->UseRealTime();

}  // namespace
