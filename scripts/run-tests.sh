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

ctest --test-dir "$build_dir" --output-on-failure -j"$jobs" --timeout 600
