#pragma once

#include <cstdint>
#include <string>

namespace ttfs::load {

enum class Mode { kUpload, kDownload, kRoundtrip, kOnline, kScale };

const char* mode_name(Mode mode);

struct Options {
  Mode mode = Mode::kUpload;
  uint32_t concurrency = 100;  // transfers in progress at once (online: pairs)
  uint64_t file_size = 1024 * 1024;
  uint64_t transfers = 0;  // total; 0 means `concurrency`
  uint32_t threads = 1;
  uint32_t window = 8;  // a receiver's pulls in flight
  std::string server = "127.0.0.1";
  uint16_t client_port = 8600;
  uint16_t msg_port = 8601;
  int server_pid = 0;           // 0: the server's CPU and memory are not reported
  double duration_limit_s = 0;  // 0: none
  double stall_timeout_s = 120;
  double close_wait_s = 2;
  double connect_rate = 0;  // new transfers started per second, all threads (0: no limit)
  uint64_t seed = 1;
  uint32_t hold = 10000;  // scale: connections held open while the transfers run
};

// Parses the command line into `options`; on --help or an error it sets
// `exit_code` and returns false.
bool parse_options(int argc, char** argv, Options& options, int& exit_code);

}  // namespace ttfs::load
