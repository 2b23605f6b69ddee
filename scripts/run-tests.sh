#!/usr/bin/env bash
# Builds and runs the whole test suite. With an argument, builds it with a
# sanitizer instead: `address` (ASan + UBSan) or `thread` (TSan), each in its
# own build directory.
set -euo pipefail
cd "$(dirname "$0")/.."

sanitizer="${1:-}"
build_dir="build${sanitizer:+-$sanitizer}"
jobs="$(nproc)"

cmake -S . -B "$build_dir" -DTTFS_SANITIZE="$sanitizer" -DTTFS_BUILD_BENCH=OFF
cmake --build "$build_dir" -j"$jobs"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1"
ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 600
