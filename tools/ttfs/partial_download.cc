#include "ttfs/partial_download.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <utility>

namespace ttfs::tool {

using client::ErrorCode;
using client::Result;
using client::Status;

namespace {

constexpr const char* kMagic = "ttfs-resume 1";

Status io_error(const std::string& what, const std::string& path) {
  return Status::error(ErrorCode::kIo, what + " " + path + ": " + std::strerror(errno));
}

std::string header_text(const std::string& task_id, uint64_t size, uint32_t segment) {
  std::ostringstream h;
  h << kMagic << "\ntask " << task_id << "\nsize " << size << "\nsegment " << segment << "\n\n";
  return h.str();
}

bool write_all(int fd, const void* data, size_t len, off_t at) {
  const auto* p = static_cast<const uint8_t*>(data);
  size_t done = 0;
  while (done < len) {
    const ssize_t n = ::pwrite(fd, p + done, len - done, at + static_cast<off_t>(done));
    if (n > 0) {
      done += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return false;
    }
  }
  return true;
}

Result<std::string> read_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path);
  std::string data;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      data.append(buf, static_cast<size_t>(n));
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0) {
      Status s = io_error("read", path);
      ::close(fd);
      return s;
    } else {
      break;
    }
  }
  ::close(fd);
  return data;
}

Status sync_directory_of(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string dir = parent.empty() ? std::string(".") : parent.string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open directory", dir);
  const int rc = ::fsync(fd);
  Status s;
  if (rc != 0) s = io_error("fsync directory", dir);
  ::close(fd);
  return s;
}

}  // namespace

Result<PartialDownload> PartialDownload::open(const std::string& final_path,
                                              const std::string& task_id, uint64_t file_size,
                                              uint32_t segment_size) {
  PartialDownload d;
  d.final_path_ = final_path;
  d.part_path_ = final_path + ".part";
  d.sidecar_path_ = d.part_path_ + ".progress";
  d.file_size_ = file_size;
  d.segment_size_ = segment_size;
  d.count_ = (file_size + segment_size - 1) / segment_size;
  d.bitmap_.assign((d.count_ + 7) / 8, 0);
  const std::string header = header_text(task_id, file_size, segment_size);
  d.header_size_ = header.size();

  bool resume = false;
  struct stat st {};
  if (::stat(d.sidecar_path_.c_str(), &st) == 0) {
    auto text = read_file(d.sidecar_path_);
    if (!text) return text.status();
    const size_t end = text->find("\n\n");
    if (text->rfind(kMagic, 0) != 0 || end == std::string::npos) {
      return Status::error(ErrorCode::kInvalidArgument,
                           d.sidecar_path_ +
                               " is not a ttfs progress file; remove it or choose "
                               "another --out");
    }
    if (text->compare(0, end + 2, header) != 0) {
      std::string theirs = text->substr(std::strlen(kMagic) + 1, end - std::strlen(kMagic) - 1);
      for (char& c : theirs)
        if (c == '\n') c = ' ';
      return Status::error(ErrorCode::kInvalidArgument,
                           d.sidecar_path_ + " belongs to another download (" + theirs +
                               "), not task " + task_id + " of " + std::to_string(file_size) +
                               " bytes; remove it or choose another --out");
    }
    if (text->size() != header.size() + d.bitmap_.size()) {
      return Status::error(ErrorCode::kInvalidArgument,
                           d.sidecar_path_ + " is damaged (wrong length); remove it to start over");
    }
    // Without its data file the record means nothing: start over.
    resume =
        ::stat(d.part_path_.c_str(), &st) == 0 && static_cast<uint64_t>(st.st_size) == file_size;
    if (resume) std::memcpy(d.bitmap_.data(), text->data() + header.size(), d.bitmap_.size());
  }

  if (!resume) {
    // The sidecar exists before any byte of the data file, and appears whole
    // (written aside, then renamed), so a sidecar always describes its .part.
    const std::string tmp = d.sidecar_path_ + ".tmp";
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return io_error("create", tmp);
    const bool ok =
        write_all(fd, header.data(), header.size(), 0) &&
        write_all(fd, d.bitmap_.data(), d.bitmap_.size(), static_cast<off_t>(header.size())) &&
        ::fsync(fd) == 0;
    Status s = ok ? Status{} : io_error("write", tmp);
    ::close(fd);
    if (!s.ok()) return s;
    if (::rename(tmp.c_str(), d.sidecar_path_.c_str()) != 0) return io_error("rename", tmp);
    d.part_fd_ = ::open(d.part_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (d.part_fd_ < 0) return io_error("create", d.part_path_);
    if (::ftruncate(d.part_fd_, static_cast<off_t>(file_size)) != 0)
      return io_error("size", d.part_path_);
  } else {
    d.part_fd_ = ::open(d.part_path_.c_str(), O_WRONLY | O_CLOEXEC);
    if (d.part_fd_ < 0) return io_error("open", d.part_path_);
  }
  d.sidecar_fd_ = ::open(d.sidecar_path_.c_str(), O_WRONLY | O_CLOEXEC);
  if (d.sidecar_fd_ < 0) return io_error("open", d.sidecar_path_);

  for (uint64_t i = 0; i < d.count_; ++i) {
    if (d.bitmap_[i / 8] & (1u << (i % 8))) {
      ++d.done_;
      d.bytes_done_ += d.size_of(i * segment_size);
    }
  }
  return d;
}

PartialDownload::PartialDownload(PartialDownload&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      part_path_(std::move(other.part_path_)),
      sidecar_path_(std::move(other.sidecar_path_)),
      file_size_(other.file_size_),
      segment_size_(other.segment_size_),
      count_(other.count_),
      done_(other.done_),
      bytes_done_(other.bytes_done_),
      header_size_(other.header_size_),
      bitmap_(std::move(other.bitmap_)),
      dirty_(other.dirty_),
      part_fd_(std::exchange(other.part_fd_, -1)),
      sidecar_fd_(std::exchange(other.sidecar_fd_, -1)) {}

PartialDownload& PartialDownload::operator=(PartialDownload&& other) noexcept {
  if (this != &other) {
    close_files();
    final_path_ = std::move(other.final_path_);
    part_path_ = std::move(other.part_path_);
    sidecar_path_ = std::move(other.sidecar_path_);
    file_size_ = other.file_size_;
    segment_size_ = other.segment_size_;
    count_ = other.count_;
    done_ = other.done_;
    bytes_done_ = other.bytes_done_;
    header_size_ = other.header_size_;
    bitmap_ = std::move(other.bitmap_);
    dirty_ = other.dirty_;
    part_fd_ = std::exchange(other.part_fd_, -1);
    sidecar_fd_ = std::exchange(other.sidecar_fd_, -1);
  }
  return *this;
}

PartialDownload::~PartialDownload() { close_files(); }

void PartialDownload::close_files() {
  if (part_fd_ >= 0) ::close(std::exchange(part_fd_, -1));
  if (sidecar_fd_ >= 0) ::close(std::exchange(sidecar_fd_, -1));
}

bool PartialDownload::is_done(uint64_t offset) const {
  const uint64_t i = offset / segment_size_;
  return i < count_ && (bitmap_[i / 8] & (1u << (i % 8))) != 0;
}

uint32_t PartialDownload::size_of(uint64_t offset) const {
  return static_cast<uint32_t>(std::min<uint64_t>(segment_size_, file_size_ - offset));
}

std::vector<uint64_t> PartialDownload::missing_offsets() const {
  std::vector<uint64_t> missing;
  missing.reserve(count_ - done_);
  for (uint64_t i = 0; i < count_; ++i) {
    if (!is_done(i * segment_size_)) missing.push_back(i * segment_size_);
  }
  return missing;
}

client::WriteAt PartialDownload::writer() const {
  return [fd = part_fd_](uint64_t offset, std::span<const uint8_t> src) {
    return write_all(fd, src.data(), src.size(), static_cast<off_t>(offset));
  };
}

void PartialDownload::mark_written(uint64_t offset) {
  if (is_done(offset)) return;
  const uint64_t i = offset / segment_size_;
  bitmap_[i / 8] = static_cast<uint8_t>(bitmap_[i / 8] | (1u << (i % 8)));
  ++done_;
  bytes_done_ += size_of(offset);
  dirty_ = true;
}

Status PartialDownload::checkpoint() {
  if (!dirty_) return {};
  if (::fdatasync(part_fd_) != 0) return io_error("fdatasync", part_path_);
  // Bits only ever go from 0 to 1 and every bit written is backed by synced
  // data, so even a torn write of the bitmap leaves a true record.
  if (!write_all(sidecar_fd_, bitmap_.data(), bitmap_.size(), static_cast<off_t>(header_size_)))
    return io_error("write", sidecar_path_);
  dirty_ = false;
  return {};
}

Status PartialDownload::complete() {
  if (done_ != count_) {
    return Status::error(ErrorCode::kInvalidArgument,
                         std::to_string(count_ - done_) + " segments are still missing");
  }
  if (::fsync(part_fd_) != 0) return io_error("fsync", part_path_);
  close_files();
  if (::rename(part_path_.c_str(), final_path_.c_str()) != 0) return io_error("rename", part_path_);
  if (::unlink(sidecar_path_.c_str()) != 0 && errno != ENOENT)
    return io_error("remove", sidecar_path_);
  return sync_directory_of(final_path_);
}

void PartialDownload::discard_if_empty() {
  if (done_ != 0 || part_fd_ < 0) return;
  close_files();
  ::unlink(part_path_.c_str());
  ::unlink(sidecar_path_.c_str());
}

}  // namespace ttfs::tool
