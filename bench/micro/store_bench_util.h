// What the store benchmarks share: a scratch store directory, upload
// metadata, page-aligned segment blocks, and the baseline that writes one
// file straight from the calling thread.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/task_id.h"
#include "common/unique_fd.h"
#include "storage/file_meta.h"
#include "storage/file_system.h"
#include "storage/meta_io.h"
#include "storage/store_layout.h"

namespace ttfs::bench {

inline constexpr size_t kSegment = 32 * 1024;

// A fresh directory under $TTFS_BENCH_DIR (default /tmp), removed with
// everything in it when the benchmark ends. /tmp should be a real disk for
// the sync figures to mean anything; a tmpfs makes them free.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("TTFS_BENCH_DIR");
    std::string templ =
        (std::filesystem::path(base && *base ? base : "/tmp") / "ttfs-bench-XXXXXX").string();
    if (::mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~ScratchDir() {
    if (!ok()) return;
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  bool ok() const { return !path_.empty(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline storage::FileMeta meta_for(uint64_t size) {
  storage::FileMeta meta;
  meta.task_id = TaskId::generate();
  meta.from_user_id = 1001;
  meta.to_user_id = 1002;
  meta.file_name = "bench.bin";
  meta.file_size = size;
  meta.created_at_unix = 1700000000;
  return meta;
}

// Page-aligned, as the IO thread places a segment's payload, so that the
// writer takes its default O_DIRECT path as it does for an upload.
inline Bytes segment_block(size_t index) {
  Bytes block = Bytes::aligned(kSegment, 0, kPayloadAlignment);
  std::memset(block.data(), static_cast<int>(index & 0xff), kSegment);
  return block;
}

inline void remove_files(const storage::StoreLayout& layout, const TaskId& id) {
  layout.fs().remove(layout.data_path(id));
  layout.fs().remove(layout.meta_path(id));
}

// One upload written on the calling thread with the store's own layout and
// metadata code: a pwrite per segment (and an fdatasync after each, if asked),
// then an fdatasync, the complete record, and a sync of the file system, as
// the writer makes a file durable. Returns 0 or an errno.
inline int write_file_directly(const storage::StoreLayout& layout, const storage::FileMeta& meta,
                               const std::vector<Bytes>& blocks, bool sync_each_segment) {
  const TaskId& id = meta.task_id;
  int err = 0;
  bool created = false;
  if ((err = layout.fs().make_dir(layout.shard_dir(id), &created)) == 0 && created) {
    err = layout.fs().sync_dir(layout.root());
  }
  UniqueFd fd(::open(layout.data_path(id).c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640));
  if (err == 0 && !fd) err = errno;
  if (err == 0) err = storage::overwrite_meta_file(layout, meta);
  for (size_t i = 0; i < blocks.size() && err == 0; ++i) {
    const auto offset = static_cast<off_t>(i * kSegment);
    const ssize_t n = ::pwrite(fd.get(), blocks[i].data(), kSegment, offset);
    if (n != static_cast<ssize_t>(kSegment)) err = n < 0 ? errno : EIO;
    if (err == 0 && sync_each_segment && ::fdatasync(fd.get()) != 0) err = errno;
  }
  if (err == 0 && ::fdatasync(fd.get()) != 0) err = errno;
  if (err == 0) {
    storage::FileMeta done = meta;
    done.complete = true;
    err = storage::overwrite_meta_file(layout, done);
    if (err == 0 && ::syncfs(fd.get()) != 0) err = errno;
  }
  return err;
}

}  // namespace ttfs::bench
