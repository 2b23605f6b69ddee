#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "storage/file_system.h"

namespace ttfs::storage::testing {

// A disk in memory that forgets like a real one at a power cut, for tests of
// the store's crash safety (after LevelDB's FaultInjectionTestEnv).
//
// Every write, truncation, creation, removal and mkdir is visible at once to
// reads, but survives a power cut only once synced: file data and sizes by
// sync_all or File::sync, directory entries by sync_dir of their directory or
// by sync_all.
// O_DIRECT writes are no exception (a device cache holds them until a flush).
// Steps (the mutating calls, syncs included) are counted, so that a test can
// stop the machine at any one of them, and full disks and I/O errors can be
// injected. Thread-safe: the writer thread and the test share it.
class SimFileSystem final : public FileSystem {
 public:
  enum class PowerCut {
    kLoseUnsynced,        // only what was synced survives (LazyFS's clear-cache)
    kKeepRandomUnsynced,  // and some of the rest, page by page, in any combination
  };

  // --- The machine's fate.
  uint64_t steps() const;
  // The machine dies as step `n` (counted from 1) begins: that call and every
  // one after fail with EIO and change nothing, until power_cut().
  void crash_at_step(uint64_t n);
  bool crashed() const;
  // The power comes back: the disk holds what was synced, plus, with
  // kKeepRandomUnsynced, an arbitrary part of what was not (chosen by seed;
  // a size may grow without its data, which reads as zeros). Files opened
  // before it fail with EIO for good.
  void power_cut(PowerCut mode, uint64_t seed = 0);

  // --- Faults that do not end the machine.
  // Writes that would take the disk's contents past `bytes` fail with ENOSPC.
  void set_capacity(uint64_t bytes);
  // Every data write fails with `error` (EIO...) while it is set; 0 clears it.
  void fail_writes_with(int error);
  // Every sync (sync_all, sync_dir) fails with `error` while it is set.
  void fail_syncs_with(int error);
  void set_supports_direct(bool supported);
  // sync_all succeeds and makes nothing durable, as syncfs(2) on a FUSE file
  // system (LazyFS among them) does: only per-file and directory syncs count.
  void ignore_sync_all(bool ignored);

  // --- Inspection.
  uint64_t used_bytes() const;
  // The bytes of a file as a reader sees them now; nullopt if there is none.
  std::optional<std::vector<uint8_t>> contents(const std::filesystem::path& path) const;

  // --- FileSystem.
  OpenedFile open(const std::filesystem::path& path, OpenMode mode, bool want_direct) override;
  int make_dir(const std::filesystem::path& dir, bool* created) override;
  int make_dirs(const std::filesystem::path& dir, bool* created) override;
  int sync_dir(const std::filesystem::path& dir) override;
  int sync_all(const std::filesystem::path& any_path) override;
  int remove(const std::filesystem::path& path) override;
  int file_size(const std::filesystem::path& path, uint64_t* bytes) override;
  int list_dir(const std::filesystem::path& dir, std::vector<DirEntry>* entries) override;

 private:
  friend class SimFile;

  // One unsynced change to a file: a write of `bytes` at `offset`, or (no
  // bytes) a truncation to `offset`.
  struct Change {
    uint64_t offset = 0;
    std::vector<uint8_t> bytes;
    bool truncation = false;
  };
  struct Inode {
    std::vector<uint8_t> data;     // what a read sees
    std::vector<uint8_t> durable;  // what a power cut leaves
    std::vector<Change> unsynced;  // from durable to data, in order
  };
  struct Node {
    bool dir = false;
    std::shared_ptr<Inode> inode;  // files only
  };
  // A directory-entry change not yet synced: `node` appears at `path`, or
  // (none) the entry is removed.
  struct EntryChange {
    std::string path;
    std::optional<Node> node;
  };

  static std::string key(const std::filesystem::path& path);
  static std::string parent_of(const std::string& key);
  bool is_dir(const std::string& key) const;
  // Starts a mutating call: EIO if the machine is down or dies now.
  int step();
  void link(const std::string& key, Node node);
  void unlink(const std::string& key);
  int make_dir_locked(const std::string& key, bool* created);
  uint64_t used_locked() const;
  void sync_inodes();

  mutable std::mutex mu_;
  std::map<std::string, Node> live_;     // the namespace as calls see it
  std::map<std::string, Node> durable_;  // the namespace a power cut leaves
  std::vector<EntryChange> unsynced_entries_;
  std::vector<std::shared_ptr<Inode>> inodes_;  // every inode ever made, for sync_all
  uint64_t steps_ = 0;
  uint64_t crash_step_ = 0;  // 0: never
  bool crashed_ = false;
  uint64_t generation_ = 0;  // bumped by power_cut; older files are dead
  uint64_t capacity_ = UINT64_MAX;
  int write_error_ = 0;
  int sync_error_ = 0;
  bool supports_direct_ = true;
  bool sync_all_ignored_ = false;
};

}  // namespace ttfs::storage::testing
