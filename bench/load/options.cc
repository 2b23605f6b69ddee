#include "options.h"

#include <arpa/inet.h>

#include <CLI/CLI.hpp>
#include <map>

namespace ttfs::load {

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::kUpload: return "upload";
    case Mode::kDownload: return "download";
    case Mode::kRoundtrip: return "roundtrip";
    case Mode::kOnline: return "online";
    case Mode::kScale: return "scale";
  }
  return "?";
}

bool parse_options(int argc, char** argv, Options& o, int& exit_code) {
  CLI::App app{
      "ttfs-load: many concurrent simulated TeamTalk file clients against any server that speaks "
      "the protocol (ttfsd or TeamTalk's file_server)"};
  const std::map<std::string, Mode> modes{{"upload", Mode::kUpload},
                                          {"download", Mode::kDownload},
                                          {"roundtrip", Mode::kRoundtrip},
                                          {"online", Mode::kOnline},
                                          {"scale", Mode::kScale}};
  app.add_option("mode", o.mode,
                 "upload: offline uploads; download: offline downloads of files uploaded in an "
                 "unmeasured setup phase; roundtrip: upload then download, every byte checked; "
                 "online: relayed sender/receiver pairs; scale: --hold quiet connections open, the "
                 "server's memory with them, and round trips and relays meanwhile")
      ->required()
      ->transform(CLI::CheckedTransformer(modes, CLI::ignore_case));
  app.add_option("--concurrency", o.concurrency, "transfers in progress at once (online: pairs)")
      ->check(CLI::Range(1u, 1000000u));
  app.add_option("--file-size", o.file_size, "bytes per file")
      ->check(CLI::Range(uint64_t{0}, uint64_t{UINT32_MAX}));
  app.add_option("--transfers", o.transfers, "transfers in total (default: --concurrency)");
  app.add_option("--threads", o.threads, "client threads, each with its own epoll loop")
      ->check(CLI::Range(1u, 256u));
  app.add_option("--window", o.window, "a receiver's PULL_DATA_REQs in flight (download, online)")
      ->check(CLI::Range(1u, 1024u));
  app.add_option("--server", o.server, "server IPv4 address (loopback only)");
  app.add_option("--client-port", o.client_port, "the server's client port");
  app.add_option("--msg-port", o.msg_port, "the server's msg-server port");
  app.add_option("--server-pid", o.server_pid, "server pid, to report its CPU time and peak RSS");
  app.add_option("--duration-limit", o.duration_limit_s,
                 "seconds after which the run stops hard (0: none)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--stall-timeout", o.stall_timeout_s,
                 "seconds without progress after which a transfer fails")
      ->check(CLI::PositiveNumber);
  app.add_option("--close-wait", o.close_wait_s,
                 "seconds a finished connection waits for the server to close it first")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--connect-rate", o.connect_rate,
                 "new transfers started per second (0: all at once); a server with a short "
                 "listen backlog (the original's is 64) drops connects that come faster")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--seed", o.seed, "seed of the file contents");
  app.add_option("--hold", o.hold, "scale: connections held open (a tenth on the msg-server port)")
      ->check(CLI::Range(1u, 1000000u));
  try {
    app.parse(argc, argv);
    in_addr addr{};
    if (::inet_pton(AF_INET, o.server.c_str(), &addr) != 1) {
      throw CLI::ValidationError("--server", "not an IPv4 address: " + o.server);
    }
    // The harness opens thousands of connections as fast as it can; it is
    // meant for a server on this machine only.
    if ((ntohl(addr.s_addr) >> 24) != 127) {
      throw CLI::ValidationError("--server", "loopback (127.0.0.0/8) only: " + o.server);
    }
    if (o.transfers == 0) o.transfers = o.concurrency;
    // Every thread needs at least one slot to be worth its msg-server connection.
    if (o.threads > o.concurrency) o.threads = o.concurrency;
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return false;
  }
  return true;
}

}  // namespace ttfs::load
