#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace ttfs::testing {

// A tmpfs of a fixed size mounted for one test and unmounted after it: a
// small file system that really fills up. Mounting needs root (or
// CAP_SYS_ADMIN); error() says why it could not.
class TmpfsMount {
 public:
  TmpfsMount(std::filesystem::path where, uint64_t bytes);
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& error() const { return error_; }
  const std::filesystem::path& path() const { return path_; }
  uint64_t free_bytes() const;

 private:
  std::filesystem::path path_;
  bool mounted_ = false;
  std::string error_;
};

}  // namespace ttfs::testing
