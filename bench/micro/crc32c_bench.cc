// CRC-32C over a 32 KiB segment and a 1 MiB buffer: the SSE4.2 path the
// server takes on x86-64, the portable slicing-by-8 path other CPUs take,
// and crc32c() itself, which should match the first (dispatch is once).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "storage/crc32c.h"
#include "storage/crc32c_detail.h"

namespace {

using namespace ttfs::storage;

using CrcFn = uint32_t (*)(std::span<const uint8_t>, uint32_t);

void run(benchmark::State& state, CrcFn fn) {
  const auto size = static_cast<size_t>(state.range(0));
  std::vector<uint8_t> data(size);
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  uint32_t crc = 0;
  for (auto _ : state) {
    // Chaining the result makes each run depend on the last, as a file's
    // segments do, and keeps the call from being hoisted.
    crc = fn(data, crc);
    benchmark::DoNotOptimize(crc);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * size));
}

void BM_Crc32c_Hardware(benchmark::State& state) {
  if (!detail::crc32c_hw_available()) {
    state.SkipWithError("no SSE4.2 on this CPU");
    return;
  }
  run(state, detail::crc32c_hw);
}

void BM_Crc32c_Portable(benchmark::State& state) { run(state, detail::crc32c_portable); }

void BM_Crc32c_Dispatched(benchmark::State& state) {
  run(state, [](std::span<const uint8_t> d, uint32_t seed) { return crc32c(d, seed); });
}

BENCHMARK(BM_Crc32c_Hardware)->Arg(32 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32c_Portable)->Arg(32 << 10)->Arg(1 << 20);
BENCHMARK(BM_Crc32c_Dispatched)->Arg(32 << 10)->Arg(1 << 20);

}  // namespace
