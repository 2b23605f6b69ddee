#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "net/io_thread.h"
#include "storage/disk_writer.h"
#include "storage/retention.h"
#include "transfer/transfer_limits.h"

namespace ttfs::server {

// Everything ttfsd can be told. The original's fileserver.conf keys
// (ClientListenIP, ClientListenPort, MsgServerListenIP, MsgServerListenPort,
// TaskTimeout) keep their meaning; every other key has a default.
struct Config {
  std::vector<std::string> client_listen_ips{"0.0.0.0"};  // ';'-separated in the file
  uint16_t client_port = 8600;                            // 0: pick a free port
  std::string msg_server_listen_ip = "127.0.0.1";
  uint16_t msg_server_port = 8601;
  // Addresses sent in FILE_SERVER_IP_RSP; by default the client listen IPs.
  std::vector<std::string> advertise_ips;
  std::filesystem::path data_dir = "ttfs-data";
  unsigned io_threads = 0;  // 0: one per core
  unsigned workers = 0;     // 0: one per core
  // Live tasks across every worker, and live tasks of one sender (0: no
  // bound); see transfer::TaskQuota.
  size_t max_tasks = 100000;
  size_t max_tasks_per_user = 256;
  // Segments go to and from the store with O_DIRECT where they are
  // page-aligned (see storage::DiskWriterOptions::direct_io).
  bool direct_io = true;
  // How often unfinished uploads' progress is made durable and recorded, so
  // that a restart resumes them from there (see storage::DiskWriterOptions).
  std::chrono::seconds checkpoint_interval{1};
  // syncfs for group commits, or a sync per file where syncfs does nothing
  // (FUSE file systems but virtiofs); see storage::SyncMethod.
  storage::SyncMethod sync_method = storage::SyncMethod::kFileSystem;
  // How long offline files are kept: a complete one for a week after its
  // upload, an unfinished one nobody resumes for a day (see
  // storage::RetentionOptions; 0 keeps them).
  storage::RetentionOptions retention{.complete_for = std::chrono::hours(24 * 7),
                                      .partial_for = std::chrono::hours(24),
                                      .sweep_period = std::chrono::hours(1),
                                      .clock = {}};
  // On SIGTERM or SIGINT: how long the connections already open are served
  // on so that the transfers in flight can finish (0: not at all). New
  // connections are refused from the signal on.
  std::chrono::seconds shutdown_grace{10};
  // How long the ordered stop after the grace (IO, workers, the store's
  // flush and checkpoint) may take before ttfsd gives up on it and exits
  // non-zero rather than hang, on a stuck disk say.
  std::chrono::seconds shutdown_timeout{30};
  std::string log_level = "info";
  transfer::TransferLimits limits;
  net::IoOptions io;
};

// Reads KEY=VALUE lines ('#' starts a comment). Throws std::runtime_error
// naming the file and line for an unknown key or a value that does not parse.
void load_config_file(const std::filesystem::path& path, Config& config);

// Parses the command line over `config` (which may already hold a file's
// values): flags override the file. Returns false when the process should
// exit (help shown, or an error printed), with `exit_code` set.
bool parse_command_line(int argc, char** argv, Config& config, int& exit_code);

// Turns "one per core" and "the listen IPs" into numbers and addresses.
void resolve_defaults(Config& config);

}  // namespace ttfs::server
