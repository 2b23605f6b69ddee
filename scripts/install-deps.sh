#!/usr/bin/env bash
# Installs what ttfs needs to build and test on Debian 12, all from Debian's
# packages. Run as root, or as a user who may sudo.
set -euo pipefail

packages=(
  build-essential cmake
  libprotobuf-dev protobuf-compiler
  libconcurrentqueue-dev uuid-dev liburing-dev
  libspdlog-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # scripts/run-fuzzers.sh: clang, and libFuzzer's runtime, which Debian
  # ships apart from the compiler.
  clang libclang-rt-14-dev
)

run_as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

export DEBIAN_FRONTEND=noninteractive
run_as_root apt-get update -q
run_as_root apt-get install -y -q --no-install-recommends "${packages[@]}"
