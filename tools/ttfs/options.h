#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "client/client.h"

namespace ttfs::tool {

// Where the server is and how long to wait for it; shared by every command.
struct GlobalOptions {
  std::string server = "127.0.0.1";
  uint16_t client_port = 8600;
  uint16_t msg_port = 8601;
  std::chrono::milliseconds timeout{10'000};  // connect, and silence while a reply is due
  // How long an online peer waits for the other one to turn up.
  std::chrono::milliseconds wait{600'000};

  client::Endpoint client_endpoint() const { return {server, client_port}; }
  client::Endpoint msg_endpoint() const { return {server, msg_port}; }
};

// What the receiver must be told: everything `ttfs recv` needs to find and
// check the file, since TeamTalk's msg_server is not there to carry it.
struct Ticket {
  std::string task_id;
  std::string file_name;
  uint64_t file_size = 0;
  uint32_t from_user = 0;
  uint32_t to_user = 0;
  client::TransferMode mode = client::TransferMode::kOffline;
};

struct SendOptions {
  std::string path;
  uint32_t from_user = 1;
  uint32_t to_user = 0;
  client::TransferMode mode = client::TransferMode::kOffline;
  // Continues the upload of an existing offline task instead of creating one.
  std::optional<std::string> task_id;
  // Called once the task exists, before any data moves (tests start the
  // receiver of an online transfer from here).
  std::function<void(const Ticket&)> on_ticket;
};

struct RecvOptions {
  std::string task_id;
  uint64_t file_size = 0;
  uint32_t user = 0;
  std::string out;  // empty: ./TASK_ID.bin
  bool online = false;
  bool force = false;  // overwrite an existing output file
  uint32_t window = 8;
  // Drops the connection after this many segments, as a cut network would
  // (tests of resumption).
  std::optional<uint64_t> cut_after_segments;
};

// What a download did, for tests and the closing line.
struct RecvStats {
  uint64_t segments_total = 0;
  uint64_t segments_before = 0;  // already on disk from an earlier run
  uint64_t segments_pulled = 0;  // this run
  uint64_t bytes_pulled = 0;
};

}  // namespace ttfs::tool
