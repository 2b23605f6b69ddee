#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang in build-fuzz and runs each
# for SECONDS_PER_TARGET seconds (default 60) on a copy of its checked-in
# corpus, so that the run never adds files to fuzz/corpus. Prints each
# target's executions; fails on the first crash or broken invariant, leaving
# the input that caused it in build-fuzz/runs/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
build_dir=build-fuzz

cmake -S . -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DTTFS_FUZZ=ON \
  -DTTFS_BUILD_TESTS=OFF -DTTFS_BUILD_BENCH=OFF
cmake --build "$build_dir" -j"$(nproc)" --target ttfs_fuzzers

for fuzzer in "$build_dir"/fuzz/*_fuzzer; do
  name="$(basename "$fuzzer")"
  run_dir="$build_dir/runs/$name"
  rm -rf "$run_dir"
  mkdir -p "$run_dir/corpus"
  if [ -d "fuzz/corpus/$name" ]; then cp -r "fuzz/corpus/$name/." "$run_dir/corpus/"; fi
  echo "=== $name: ${seconds}s"
  status=0
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 "$fuzzer" -max_total_time="$seconds" \
    -print_final_stats=1 -artifact_prefix="$run_dir/" "$run_dir/corpus" \
    >"$run_dir/log" 2>&1 </dev/null || status=$?
  grep -E '^#[0-9]+[[:space:]]+DONE|stat::number_of_executed_units|stat::average_exec_per_sec' \
    "$run_dir/log" || true
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$run_dir/log"
    echo "FAILED: $name (exit $status); the input is in $run_dir/" >&2
    exit 1
  fi
done
echo "all fuzz targets ran ${seconds}s each without a crash"
