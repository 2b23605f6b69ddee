#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/task_id.h"
#include "storage/block_checksums.h"
#include "storage/crc32c.h"
#include "storage/disk_completion.h"
#include "storage/file_meta.h"
#include "storage/retention.h"

namespace ttfs::storage::testing {

// A fresh directory per test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() /
            ("ttfs_storage_" + std::string(info->test_suite_name()) + "_" + info->name() + "_" +
             std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Gathers what the writer hands to the sink, and lets a test wait for it
// without sleeping.
class Collector {
 public:
  struct Call {
    uint32_t owner;
    std::vector<DiskCompletion> completions;
  };

  CompletionSink sink() {
    return [this](uint32_t owner, std::vector<DiskCompletion>&& completions) {
      std::lock_guard lock(mu_);
      count_ += completions.size();
      calls_.push_back({owner, std::move(completions)});
      cv_.notify_all();
    };
  }

  // True once at least n completions have arrived (generous timeout).
  bool wait_for(size_t n, std::chrono::seconds timeout = std::chrono::seconds(60)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return count_ >= n; });
  }

  std::vector<Call> calls() {
    std::lock_guard lock(mu_);
    std::vector<Call> copy;
    for (const auto& c : calls_) copy.push_back({c.owner, c.completions});
    return copy;
  }

  std::vector<DiskCompletion> all() {
    std::lock_guard lock(mu_);
    std::vector<DiskCompletion> out;
    for (const auto& c : calls_) out.insert(out.end(), c.completions.begin(), c.completions.end());
    return out;
  }

  std::vector<DiskCompletion> of_kind(DiskCompletion::Kind kind) {
    std::vector<DiskCompletion> out;
    for (const auto& c : all()) {
      if (c.kind == kind) out.push_back(c);
    }
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Call> calls_;
  size_t count_ = 0;
};

// A clock for the store that stamps every file it completes with
// kCompletedAt, so that a test can say exactly what the record holds.
inline constexpr int64_t kCompletedAt = 1700000100;
inline RetentionOptions fixed_clock() {
  RetentionOptions options;
  options.clock = [] { return kCompletedAt; };
  return options;
}

inline FileMeta make_meta(uint64_t size, std::string name = "report.pdf") {
  FileMeta meta;
  meta.task_id = TaskId::generate();
  meta.from_user_id = 1001;
  meta.to_user_id = 2002;
  meta.file_name = std::move(name);
  meta.file_size = size;
  meta.created_at_unix = 1700000000;
  meta.complete = false;
  return meta;
}

// Content that differs per file and per position, so a segment written at
// the wrong offset or into the wrong file is caught.
inline uint8_t pattern_byte(uint64_t seed, uint64_t pos) {
  uint64_t x = (seed + 1) * 0x9E3779B97F4A7C15ull ^ pos * 0xC2B2AE3D27D4EB4Full;
  x ^= x >> 29;
  return static_cast<uint8_t>(x ^ (x >> 17));
}

inline Payload pattern_payload(uint64_t seed, uint64_t offset, size_t length) {
  Bytes block(length);
  for (size_t i = 0; i < length; ++i) block.data()[i] = pattern_byte(seed, offset + i);
  return Payload{std::move(block), 0, length, std::nullopt};
}

inline std::vector<uint8_t> pattern_bytes(uint64_t seed, uint64_t size) {
  std::vector<uint8_t> out(size);
  for (uint64_t i = 0; i < size; ++i) out[i] = pattern_byte(seed, i);
  return out;
}

// Gives a complete file's meta the checksums the store must record for these
// bytes, each computed here straight from the bytes (the store combines the
// whole file's from its blocks').
inline FileMeta with_checksums(FileMeta meta, const std::vector<uint8_t>& bytes) {
  meta.block_checksums.clear();
  for (size_t at = 0; at < bytes.size(); at += BlockChecksums::kBlockSize) {
    const size_t n = std::min<size_t>(BlockChecksums::kBlockSize, bytes.size() - at);
    meta.block_checksums.push_back(crc32c({bytes.data() + at, n}));
  }
  meta.file_checksum = crc32c(bytes);
  return meta;
}

}  // namespace ttfs::storage::testing
