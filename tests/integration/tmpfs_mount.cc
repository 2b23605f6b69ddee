#include "tmpfs_mount.h"

#include <sys/mount.h>
#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

namespace ttfs::testing {

TmpfsMount::TmpfsMount(std::filesystem::path where, uint64_t bytes) : path_(std::move(where)) {
  std::error_code ec;
  std::filesystem::create_directories(path_, ec);
  const std::string options = "size=" + std::to_string(bytes);
  if (ec) {
    error_ = ec.message();
  } else if (::mount("ttfs-test", path_.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) !=
             0) {
    error_ = std::strerror(errno);
  } else {
    mounted_ = true;
  }
}

TmpfsMount::~TmpfsMount() {
  if (mounted_) ::umount2(path_.c_str(), MNT_DETACH);
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

uint64_t TmpfsMount::free_bytes() const {
  struct statvfs st {};
  if (::statvfs(path_.c_str(), &st) != 0) return 0;
  return uint64_t{st.f_bavail} * st.f_frsize;
}

}  // namespace ttfs::testing
