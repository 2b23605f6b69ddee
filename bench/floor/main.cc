// ttfs-floor: what the kernel alone costs a server per 32 KiB segment on
// this machine, path by path (see floors.h), so that ttfsd's CPU per segment
// in bench/RESULTS.md can be read against it.

#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <map>
#include <string>
#include <vector>

#include "floors.h"

namespace {

using ttfs::floor::FloorOptions;
using ttfs::floor::FloorResult;

using FloorPath = FloorResult (*)(const FloorOptions&);
const std::vector<std::pair<std::string, FloorPath>> kPaths = {
    {"upload-direct", ttfs::floor::upload_direct},
    {"download-copy", ttfs::floor::download_copy},
    {"download-sendfile", ttfs::floor::download_sendfile},
    {"relay-copy", ttfs::floor::relay_copy},
    {"relay-splice", ttfs::floor::relay_splice},
};

void report(const std::string& path, const FloorResult& r) {
  const double segments = static_cast<double>(r.segments);
  std::printf(
      "FLOOR path=%s segments=%llu server_cpu_us_per_segment=%.2f peer_cpu_us_per_segment=%.2f "
      "mb_per_s=%.1f\n",
      path.c_str(), static_cast<unsigned long long>(r.segments),
      r.server_cpu_seconds * 1e6 / segments, r.peer_cpu_seconds * 1e6 / segments,
      segments * ttfs::floor::kSegmentSize / 1e6 / r.wall_seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "ttfs-floor: the CPU a bare loop spends per 32 KiB segment on each of a file server's "
      "paths over loopback, with and without the kernel's copies"};
  std::vector<std::string> names;
  std::map<std::string, std::string> choices;
  for (const auto& [name, run] : kPaths) choices.emplace(name, name);
  FloorOptions options;
  app.add_option("paths", names, "which paths to measure (default: all)")
      ->transform(CLI::IsMember(choices));
  app.add_option("--segments", options.segments, "segments per path")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 24));
  app.add_option("--window", options.window, "requests in flight")->check(CLI::Range(1u, 1024u));
  app.add_option("--dir", options.dir,
                 "a directory on the disk under test (O_DIRECT must work there)")
      ->check(CLI::ExistingDirectory);
  app.add_flag("--keep-files", options.keep_files,
               "leave the files written in --dir behind (the next run then does not create its "
               "own among freshly deleted inodes)");
  CLI11_PARSE(app, argc, argv);

  // A peer whose socket was shut down after a failure must not kill the run.
  ::signal(SIGPIPE, SIG_IGN);
  int status = 0;
  for (const auto& [name, run] : kPaths) {
    if (!names.empty() && std::find(names.begin(), names.end(), name) == names.end()) continue;
    try {
      report(name, run(options));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ttfs-floor: %s: %s\n", name.c_str(), e.what());
      status = 1;
    }
  }
  return status;
}
