#include "sim_file_system.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>

#include "storage/direct_mode.h"

namespace ttfs::storage::testing {

// An open file of the simulated disk. It outlives nothing: the test keeps
// the SimFileSystem alive longer than every store that uses it.
class SimFile final : public File {
 public:
  SimFile(SimFileSystem& fs, std::shared_ptr<SimFileSystem::Inode> inode, bool direct)
      : fs_(fs), inode_(std::move(inode)), generation_(fs.generation_), direct_(direct) {}

  int write_at(iovec* iov, int count, uint64_t offset, uint64_t* syscalls) override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    uint64_t total = 0;
    for (int i = 0; i < count; ++i) {
      if (direct_ && !(direct_io_aligned(iov[i].iov_len) &&
                       direct_io_aligned(reinterpret_cast<uintptr_t>(iov[i].iov_base)))) {
        return EINVAL;  // what the kernel says to a misaligned O_DIRECT transfer
      }
      total += iov[i].iov_len;
    }
    if (direct_ && !direct_io_aligned(offset)) return EINVAL;
    if (total == 0) return 0;
    if (const int err = fs_.step(); err != 0) return err;
    ++*syscalls;
    if (fs_.write_error_ != 0) return fs_.write_error_;
    std::vector<uint8_t>& data = inode_->data;
    const uint64_t end = offset + total;
    if (end > data.size() && fs_.used_locked() + (end - data.size()) > fs_.capacity_) {
      return ENOSPC;
    }
    SimFileSystem::Change change;
    change.offset = offset;
    for (int i = 0; i < count; ++i) {
      const auto* p = static_cast<const uint8_t*>(iov[i].iov_base);
      change.bytes.insert(change.bytes.end(), p, p + iov[i].iov_len);
      iov[i].iov_len = 0;  // consumed, as the real one leaves it
    }
    if (end > data.size()) data.resize(end);
    std::copy(change.bytes.begin(), change.bytes.end(), data.begin() + static_cast<long>(offset));
    inode_->unsynced.push_back(std::move(change));
    return 0;
  }

  int read_at(std::span<uint8_t> dst, uint64_t offset) override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    if (direct_ && !(direct_io_aligned(offset) && direct_io_aligned(dst.size()) &&
                     direct_io_aligned(reinterpret_cast<uintptr_t>(dst.data())))) {
      return EINVAL;
    }
    const std::vector<uint8_t>& data = inode_->data;
    if (offset > data.size() || dst.size() > data.size() - offset) return EIO;
    std::copy_n(data.begin() + static_cast<long>(offset), dst.size(), dst.begin());
    return 0;
  }

  int size(uint64_t* bytes) override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    *bytes = inode_->data.size();
    return 0;
  }

  int truncate(uint64_t bytes) override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    if (bytes == inode_->data.size()) return 0;
    if (const int err = fs_.step(); err != 0) return err;
    inode_->data.resize(bytes);
    inode_->unsynced.push_back({bytes, {}, true});
    return 0;
  }

  int set_direct(bool on) override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    if (on && !fs_.supports_direct_) return EINVAL;
    direct_ = on;
    return 0;
  }

  int sync() override {
    std::lock_guard lock(fs_.mu_);
    if (const int err = usable(); err != 0) return err;
    if (const int err = fs_.step(); err != 0) return err;
    if (fs_.sync_error_ != 0) return fs_.sync_error_;
    inode_->durable = inode_->data;
    inode_->unsynced.clear();
    return 0;
  }

 private:
  int usable() const { return fs_.crashed_ || generation_ != fs_.generation_ ? EIO : 0; }

  SimFileSystem& fs_;
  std::shared_ptr<SimFileSystem::Inode> inode_;
  uint64_t generation_;
  bool direct_;
};

std::string SimFileSystem::key(const std::filesystem::path& path) {
  std::string k = path.lexically_normal().string();
  while (k.size() > 1 && k.back() == '/') k.pop_back();
  return k;
}

std::string SimFileSystem::parent_of(const std::string& key) {
  return std::filesystem::path(key).parent_path().string();
}

bool SimFileSystem::is_dir(const std::string& key) const {
  if (key.empty() || key == "/") return true;  // the root always exists
  auto it = live_.find(key);
  return it != live_.end() && it->second.dir;
}

int SimFileSystem::step() {
  if (crashed_) return EIO;
  if (++steps_ == crash_step_) {
    crashed_ = true;
    return EIO;
  }
  return 0;
}

void SimFileSystem::link(const std::string& key, Node node) {
  live_[key] = node;
  unsynced_entries_.push_back({key, std::move(node)});
}

void SimFileSystem::unlink(const std::string& key) {
  live_.erase(key);
  unsynced_entries_.push_back({key, std::nullopt});
}

uint64_t SimFileSystem::used_locked() const {
  uint64_t used = 0;
  for (const auto& [path, node] : live_) {
    if (!node.dir) used += node.inode->data.size();
  }
  return used;
}

void SimFileSystem::sync_inodes() {
  for (const auto& inode : inodes_) {
    inode->durable = inode->data;
    inode->unsynced.clear();
  }
}

uint64_t SimFileSystem::steps() const {
  std::lock_guard lock(mu_);
  return steps_;
}

void SimFileSystem::crash_at_step(uint64_t n) {
  std::lock_guard lock(mu_);
  crash_step_ = n;
  if (n != 0 && n <= steps_) crashed_ = true;
}

bool SimFileSystem::crashed() const {
  std::lock_guard lock(mu_);
  return crashed_;
}

void SimFileSystem::power_cut(PowerCut mode, uint64_t seed) {
  std::lock_guard lock(mu_);
  std::mt19937_64 rng(seed);
  auto coin = [&](unsigned one_in) { return rng() % one_in == 0; };
  const bool keep_some = mode == PowerCut::kKeepRandomUnsynced;

  std::map<std::string, Node> names = durable_;
  for (const EntryChange& change : unsynced_entries_) {
    if (keep_some && coin(2)) {
      if (change.node) {
        names[change.path] = *change.node;
      } else {
        names.erase(change.path);
      }
    }
  }
  // Entries whose directory did not survive are gone with it.
  for (auto it = names.begin(); it != names.end();) {
    const std::string parent = parent_of(it->first);
    const bool orphaned =
        !(parent.empty() || parent == "/") && !(names.contains(parent) && names.at(parent).dir);
    it = orphaned ? names.erase(it) : std::next(it);
  }

  for (const auto& inode : inodes_) {
    std::vector<uint8_t> data = inode->durable;
    if (keep_some) {
      for (const Change& change : inode->unsynced) {
        if (change.truncation) {
          if (coin(2)) data.resize(change.offset);
          continue;
        }
        // Page by page, each page of the write independently kept or lost;
        // a lost page past the end may still grow the size (metadata
        // written, data not), and then reads as zeros.
        const uint64_t end = change.offset + change.bytes.size();
        for (uint64_t at = change.offset; at < end;) {
          const uint64_t page_end = std::min(end, (at / kPayloadAlignment + 1) * kPayloadAlignment);
          const bool keep = coin(2);
          if ((keep || coin(4)) && page_end > data.size()) data.resize(page_end);
          if (keep) {
            std::copy(change.bytes.begin() + static_cast<long>(at - change.offset),
                      change.bytes.begin() + static_cast<long>(page_end - change.offset),
                      data.begin() + static_cast<long>(at));
          }
          at = page_end;
        }
      }
    }
    inode->data = inode->durable = std::move(data);
    inode->unsynced.clear();
  }
  live_ = durable_ = std::move(names);
  unsynced_entries_.clear();
  crashed_ = false;
  crash_step_ = 0;
  ++generation_;
}

void SimFileSystem::set_capacity(uint64_t bytes) {
  std::lock_guard lock(mu_);
  capacity_ = bytes;
}

void SimFileSystem::fail_writes_with(int error) {
  std::lock_guard lock(mu_);
  write_error_ = error;
}

void SimFileSystem::fail_syncs_with(int error) {
  std::lock_guard lock(mu_);
  sync_error_ = error;
}

void SimFileSystem::set_supports_direct(bool supported) {
  std::lock_guard lock(mu_);
  supports_direct_ = supported;
}

void SimFileSystem::ignore_sync_all(bool ignored) {
  std::lock_guard lock(mu_);
  sync_all_ignored_ = ignored;
}

uint64_t SimFileSystem::used_bytes() const {
  std::lock_guard lock(mu_);
  return used_locked();
}

std::optional<std::vector<uint8_t>> SimFileSystem::contents(
    const std::filesystem::path& path) const {
  std::lock_guard lock(mu_);
  auto it = live_.find(key(path));
  if (it == live_.end() || it->second.dir) return std::nullopt;
  return it->second.inode->data;
}

OpenedFile SimFileSystem::open(const std::filesystem::path& path, OpenMode mode, bool want_direct) {
  std::lock_guard lock(mu_);
  OpenedFile opened;
  const std::string k = key(path);
  if (crashed_) {
    opened.error = EIO;
    return opened;
  }
  if (!is_dir(parent_of(k))) {
    opened.error = ENOENT;
    return opened;
  }
  auto it = live_.find(k);
  if (it != live_.end() && it->second.dir) {
    opened.error = EISDIR;
    return opened;
  }
  std::shared_ptr<Inode> inode;
  if (it != live_.end()) {
    inode = it->second.inode;
    if (mode == OpenMode::kWriteTruncated && !inode->data.empty()) {
      if ((opened.error = step()) != 0) return opened;
      inode->data.clear();
      inode->unsynced.push_back({0, {}, true});
    }
  } else if (mode == OpenMode::kRead) {
    opened.error = ENOENT;
    return opened;
  } else {
    if ((opened.error = step()) != 0) return opened;
    inode = std::make_shared<Inode>();
    inodes_.push_back(inode);
    link(k, Node{false, inode});
  }
  opened.direct = want_direct && supports_direct_;
  opened.file = std::make_unique<SimFile>(*this, std::move(inode), opened.direct);
  return opened;
}

int SimFileSystem::make_dir_locked(const std::string& k, bool* created) {
  *created = false;
  if (crashed_) return EIO;
  if (is_dir(k)) return 0;
  if (live_.contains(k)) return ENOTDIR;
  if (!is_dir(parent_of(k))) return ENOENT;
  if (const int err = step(); err != 0) return err;
  link(k, Node{true, nullptr});
  *created = true;
  return 0;
}

int SimFileSystem::make_dir(const std::filesystem::path& dir, bool* created) {
  std::lock_guard lock(mu_);
  return make_dir_locked(key(dir), created);
}

int SimFileSystem::make_dirs(const std::filesystem::path& dir, bool* created) {
  std::lock_guard lock(mu_);
  *created = false;
  std::filesystem::path so_far;
  for (const auto& part : std::filesystem::path(key(dir))) {
    so_far /= part;
    if (const int err = make_dir_locked(key(so_far), created); err != 0) return err;
  }
  return 0;
}

int SimFileSystem::sync_dir(const std::filesystem::path& dir) {
  std::lock_guard lock(mu_);
  const std::string k = key(dir);
  if (crashed_) return EIO;
  if (!is_dir(k)) return ENOENT;
  if (const int err = step(); err != 0) return err;
  if (sync_error_ != 0) return sync_error_;
  std::vector<EntryChange> rest;
  for (EntryChange& change : unsynced_entries_) {
    if (parent_of(change.path) != k) {
      rest.push_back(std::move(change));
    } else if (change.node) {
      durable_[change.path] = *change.node;
    } else {
      durable_.erase(change.path);
    }
  }
  unsynced_entries_ = std::move(rest);
  return 0;
}

int SimFileSystem::sync_all(const std::filesystem::path&) {
  std::lock_guard lock(mu_);
  if (const int err = step(); err != 0) return err;
  if (sync_error_ != 0) return sync_error_;
  if (sync_all_ignored_) return 0;
  durable_ = live_;
  unsynced_entries_.clear();
  sync_inodes();
  return 0;
}

int SimFileSystem::remove(const std::filesystem::path& path) {
  std::lock_guard lock(mu_);
  const std::string k = key(path);
  if (crashed_) return EIO;
  auto it = live_.find(k);
  if (it == live_.end()) return 0;
  if (it->second.dir) return EISDIR;
  if (const int err = step(); err != 0) return err;
  unlink(k);
  return 0;
}

int SimFileSystem::file_size(const std::filesystem::path& path, uint64_t* bytes) {
  std::lock_guard lock(mu_);
  if (crashed_) return EIO;
  auto it = live_.find(key(path));
  if (it == live_.end()) return ENOENT;
  if (it->second.dir) return EISDIR;
  *bytes = it->second.inode->data.size();
  return 0;
}

int SimFileSystem::list_dir(const std::filesystem::path& dir, std::vector<DirEntry>* entries) {
  std::lock_guard lock(mu_);
  entries->clear();
  const std::string k = key(dir);
  if (crashed_) return EIO;
  if (!is_dir(k)) return live_.contains(k) ? ENOTDIR : ENOENT;
  for (const auto& [path, node] : live_) {
    if (parent_of(path) == k) {
      entries->push_back({std::filesystem::path(path).filename().string(), node.dir});
    }
  }
  return 0;
}

}  // namespace ttfs::storage::testing
