#include "server/config.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

namespace ttfs::server {

namespace {

std::string trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return std::string(s.substr(first, last - first + 1));
}

std::vector<std::string> split_list(const std::string& value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= value.size()) {
    const size_t end = std::min(value.find(';', start), value.size());
    if (auto item = trim(std::string_view(value).substr(start, end - start)); !item.empty()) {
      items.push_back(item);
    }
    start = end + 1;
  }
  return items;
}

template <typename Int>
Int parse_int(const std::string& value, Int min, Int max) {
  long long parsed = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), parsed);
  if (ec != std::errc() || end != value.data() + value.size() ||
      parsed < static_cast<long long>(min) || parsed > static_cast<long long>(max)) {
    throw std::invalid_argument("expected an integer from " + std::to_string(min) + " to " +
                                std::to_string(max));
  }
  return static_cast<Int>(parsed);
}

bool parse_bool(const std::string& value) {
  if (value == "true" || value == "yes" || value == "1") return true;
  if (value == "false" || value == "no" || value == "0") return false;
  throw std::invalid_argument("expected true or false");
}

storage::SyncMethod parse_sync_method(const std::string& value) {
  if (value == "syncfs") return storage::SyncMethod::kFileSystem;
  if (value == "fsync") return storage::SyncMethod::kPerFile;
  throw std::invalid_argument("expected syncfs or fsync");
}

using Setter = std::function<void(Config&, const std::string&)>;

constexpr int64_t kYear = 365LL * 24 * 3600;

std::chrono::seconds seconds(const std::string& v) {
  return std::chrono::seconds(parse_int<int64_t>(v, 1, kYear));
}

const std::map<std::string, Setter>& config_keys() {
  static const std::map<std::string, Setter> keys = {
      {"ClientListenIP",
       [](Config& c, const std::string& v) { c.client_listen_ips = split_list(v); }},
      {"ClientListenPort",
       [](Config& c, const std::string& v) { c.client_port = parse_int<uint16_t>(v, 0, 65535); }},
      {"MsgServerListenIP", [](Config& c, const std::string& v) { c.msg_server_listen_ip = v; }},
      {"MsgServerListenPort",
       [](Config& c, const std::string& v) {
         c.msg_server_port = parse_int<uint16_t>(v, 0, 65535);
       }},
      {"TaskTimeout", [](Config& c, const std::string& v) { c.limits.task_timeout = seconds(v); }},
      {"AdvertiseIP", [](Config& c, const std::string& v) { c.advertise_ips = split_list(v); }},
      {"DataDir", [](Config& c, const std::string& v) { c.data_dir = v; }},
      {"IoThreads",
       [](Config& c, const std::string& v) { c.io_threads = parse_int<unsigned>(v, 0, 256); }},
      {"Workers",
       [](Config& c, const std::string& v) { c.workers = parse_int<unsigned>(v, 0, 256); }},
      {"UploadWindow",
       [](Config& c, const std::string& v) {
         c.limits.upload_window = parse_int<uint32_t>(v, 1, 4096);
       }},
      {"RelayWindow",
       [](Config& c, const std::string& v) {
         c.limits.relay_window = parse_int<uint32_t>(v, 1, 4096);
       }},
      {"MaxPullSize",
       [](Config& c, const std::string& v) {
         c.limits.max_pull_size = parse_int<uint32_t>(v, 1, 64u << 20);
       }},
      {"MaxPduLength",
       [](Config& c, const std::string& v) {
         c.io.max_pdu_length = parse_int<uint32_t>(v, 64, 64u << 20);
       }},
      {"MaxFileSize",
       [](Config& c, const std::string& v) {
         c.limits.max_file_size = parse_int<uint64_t>(v, 0, UINT32_MAX);
       }},
      {"MaxTasks",
       [](Config& c, const std::string& v) { c.max_tasks = parse_int<size_t>(v, 1, 100000000); }},
      {"MaxTasksPerUser",
       [](Config& c, const std::string& v) {
         c.max_tasks_per_user = parse_int<size_t>(v, 0, 100000000);
       }},
      // The whole process's client-port connections (it was each IO
      // thread's until the bound was shared; the key is kept).
      {"MaxConnections",
       [](Config& c, const std::string& v) {
         c.io.connection_limits.max_client_connections = parse_int<size_t>(v, 1, 10000000);
       }},
      {"MaxConnectionsPerIp",
       [](Config& c, const std::string& v) {
         c.io.connection_limits.max_client_connections_per_address =
             parse_int<size_t>(v, 0, 10000000);
       }},
      {"MaxMsgServerConnections",
       [](Config& c, const std::string& v) {
         c.io.connection_limits.max_msg_server_connections = parse_int<size_t>(v, 1, 100000);
       }},
      {"LoginTimeout", [](Config& c, const std::string& v) { c.io.login_timeout = seconds(v); }},
      {"FrameTimeout", [](Config& c, const std::string& v) { c.io.frame_timeout = seconds(v); }},
      {"StallTimeout",
       [](Config& c, const std::string& v) { c.limits.stall_timeout = seconds(v); }},
      {"ClientIdleTimeout",
       [](Config& c, const std::string& v) { c.io.client_idle_timeout = seconds(v); }},
      {"MsgServerIdleTimeout",
       [](Config& c, const std::string& v) { c.io.msg_server_idle_timeout = seconds(v); }},
      {"MaxPullsInFlight",
       [](Config& c, const std::string& v) {
         c.io.max_requests_in_flight = parse_int<uint32_t>(v, 1, 65536);
       }},
      {"OutputHighWater",
       [](Config& c, const std::string& v) {
         c.io.output_high_water = parse_int<size_t>(v, 64 * 1024, size_t{1} << 32);
       }},
      {"CheckpointInterval",
       [](Config& c, const std::string& v) {
         c.checkpoint_interval = std::chrono::seconds(parse_int<int64_t>(v, 0, 3600));
       }},
      {"Retention",
       [](Config& c, const std::string& v) {
         c.retention.complete_for = std::chrono::seconds(parse_int<int64_t>(v, 0, kYear * 100));
       }},
      {"PartialRetention",
       [](Config& c, const std::string& v) {
         c.retention.partial_for = std::chrono::seconds(parse_int<int64_t>(v, 0, kYear * 100));
       }},
      {"RetentionSweep",
       [](Config& c, const std::string& v) { c.retention.sweep_period = seconds(v); }},
      {"ShutdownGrace",
       [](Config& c, const std::string& v) {
         c.shutdown_grace = std::chrono::seconds(parse_int<int64_t>(v, 0, 3600));
       }},
      {"ShutdownTimeout",
       [](Config& c,
          const std::string&
              v) { c.shutdown_timeout = std::chrono::seconds(parse_int<int64_t>(v, 1, 3600)); }},
      {"DirectIo", [](Config& c, const std::string& v) { c.direct_io = parse_bool(v); }},
      {"SyncMethod", [](Config& c, const std::string& v) { c.sync_method = parse_sync_method(v); }},
      {"LogLevel", [](Config& c, const std::string& v) { c.log_level = v; }},
  };
  return keys;
}

}  // namespace

void load_config_file(const std::filesystem::path& path, Config& config) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read config file " + path.string());
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    const std::string where = path.string() + ":" + std::to_string(number);
    if (const auto hash = line.find('#'); hash != std::string::npos) line.erase(hash);
    const std::string text = trim(line);
    if (text.empty()) continue;
    const auto eq = text.find('=');
    if (eq == std::string::npos) throw std::runtime_error(where + ": expected KEY=VALUE");
    const std::string key = trim(std::string_view(text).substr(0, eq));
    const std::string value = trim(std::string_view(text).substr(eq + 1));
    const auto it = config_keys().find(key);
    if (it == config_keys().end()) throw std::runtime_error(where + ": unknown key " + key);
    try {
      it->second(config, value);
    } catch (const std::exception& e) {
      throw std::runtime_error(where + ": " + key + ": " + e.what());
    }
  }
}

bool parse_command_line(int argc, char** argv, Config& config, int& exit_code) {
  CLI::App app{"ttfsd: a TeamTalk-compatible file-transfer server"};
  // Every flag lands in a local first: the file (if any) is read after the
  // command line is parsed, and only the flags given are then applied over it.
  std::string config_path;
  std::string listen_ip;
  uint16_t client_port = 0;
  uint16_t msg_port = 0;
  std::string advertise;
  std::string data_dir;
  unsigned io_threads = 0;
  unsigned workers = 0;
  int task_timeout = 0;
  uint32_t window = 0;
  std::string log_level;
  std::string direct_io;
  std::string sync_method;
  int shutdown_grace = 0;
  int shutdown_timeout = 0;
  app.add_option("--config", config_path, "fileserver.conf-style file (KEY=VALUE)");
  auto* listen_ip_flag = app.add_option("--listen-ip", listen_ip, "IPv4 address for both ports");
  auto* client_port_flag =
      app.add_option("--client-port", client_port, "client port (0: any free)");
  auto* msg_port_flag = app.add_option("--msg-port", msg_port, "msg-server port (0: any free)");
  auto* advertise_flag = app.add_option("--advertise-ip", advertise,
                                        "addresses sent in FILE_SERVER_IP_RSP, ';'-separated");
  auto* data_dir_flag = app.add_option("--data-dir", data_dir, "directory of the offline store");
  auto* io_threads_flag =
      app.add_option("--io-threads", io_threads, "IO threads (0: one per core)");
  auto* workers_flag = app.add_option("--workers", workers, "transfer workers (0: one per core)");
  auto* task_timeout_flag = app.add_option("--task-timeout", task_timeout,
                                           "seconds before a task nobody starts is removed")
                                ->check(CLI::Range(1, 365 * 24 * 3600));
  auto* window_flag =
      app.add_option("--upload-window", window, "PULL_DATA_REQs in flight per offline upload")
          ->check(CLI::Range(1, 4096));
  auto* direct_io_flag =
      app.add_option("--direct-io", direct_io, "O_DIRECT for page-aligned segments (true/false)")
          ->check(CLI::IsMember({"true", "false", "yes", "no", "1", "0"}));
  auto* sync_method_flag =
      app.add_option("--sync-method", sync_method,
                     "syncfs, or fsync where syncfs does nothing (FUSE file systems)")
          ->check(CLI::IsMember({"syncfs", "fsync"}));
  auto* shutdown_grace_flag =
      app.add_option("--shutdown-grace", shutdown_grace,
                     "seconds transfers in flight may take to finish on SIGTERM (0: none)")
          ->check(CLI::Range(0, 3600));
  auto* shutdown_timeout_flag =
      app.add_option("--shutdown-timeout", shutdown_timeout,
                     "seconds the stop after the grace may take before ttfsd exits non-zero")
          ->check(CLI::Range(1, 3600));
  auto* log_level_flag =
      app.add_option("--log-level", log_level, "trace, debug, info, warn, error");
  try {
    app.parse(argc, argv);
    if (!config_path.empty()) load_config_file(config_path, config);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return false;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ttfsd: %s\n", e.what());
    exit_code = 2;
    return false;
  }
  if (listen_ip_flag->count()) {
    config.client_listen_ips = {listen_ip};
    config.msg_server_listen_ip = listen_ip;
  }
  if (client_port_flag->count()) config.client_port = client_port;
  if (msg_port_flag->count()) config.msg_server_port = msg_port;
  if (advertise_flag->count()) config.advertise_ips = split_list(advertise);
  if (data_dir_flag->count()) config.data_dir = data_dir;
  if (io_threads_flag->count()) config.io_threads = io_threads;
  if (workers_flag->count()) config.workers = workers;
  if (task_timeout_flag->count()) config.limits.task_timeout = std::chrono::seconds(task_timeout);
  if (window_flag->count()) config.limits.upload_window = window;
  if (direct_io_flag->count()) config.direct_io = parse_bool(direct_io);
  if (sync_method_flag->count()) config.sync_method = parse_sync_method(sync_method);
  if (shutdown_grace_flag->count()) config.shutdown_grace = std::chrono::seconds(shutdown_grace);
  if (shutdown_timeout_flag->count())
    config.shutdown_timeout = std::chrono::seconds(shutdown_timeout);
  if (log_level_flag->count()) config.log_level = log_level;
  return true;
}

void resolve_defaults(Config& config) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  if (config.io_threads == 0) config.io_threads = cores;
  if (config.workers == 0) config.workers = cores;
  if (config.advertise_ips.empty()) config.advertise_ips = config.client_listen_ips;
}

}  // namespace ttfs::server
