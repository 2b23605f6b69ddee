#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/connection.h"
#include "client/status.h"
#include "client/transfer_types.h"

namespace ttfs::client {

struct ServerAddress {
  std::string ip;
  uint32_t port = 0;
};

struct CreateTaskRequest {
  uint32_t from_user = 0;
  uint32_t to_user = 0;
  std::string file_name;
  uint32_t file_size = 0;  // the protocol's field is 32-bit
  TransferMode mode = TransferMode::kOffline;
  std::optional<std::string> attach_data;
};

// FILE_TRANSFER_RSP as received; optional fields are empty when absent.
struct CreateTaskReply {
  uint32_t result_code = 0;
  uint32_t from_user = 0;
  uint32_t to_user = 0;
  std::optional<std::string> file_name;
  std::optional<uint32_t> file_size;
  std::optional<std::string> task_id;
  std::optional<TransferMode> mode;
  std::optional<std::string> attach_data;

  bool ok() const { return result_code == 0 && task_id.has_value(); }
};

struct MsgServerOptions {
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{10'000};  // for each reply
  uint32_t max_pdu_length = 1u << 20;
};

// The msg_server's side of the msg-server port: asks for the advertised
// client-port addresses and creates tasks. Requests are sequential; each
// carries a fresh seq_num and its reply must echo it. A HEARTBEAT that the
// server sends unasked is skipped.
class MsgServerClient {
 public:
  static Result<MsgServerClient> connect(const Endpoint& server, MsgServerOptions options = {});

  // IP_REQ -> IP_RSP.
  Result<std::vector<ServerAddress>> server_addresses();
  // FILE_TRANSFER_REQ -> FILE_TRANSFER_RSP. A reply with result_code != 0 is a
  // value, not an error: the server answered.
  Result<CreateTaskReply> create_task(const CreateTaskRequest& request);
  // HEARTBEAT, and wait for its echo.
  Status heartbeat();

  uint16_t last_seq_num() const { return seq_num_; }
  void close() { conn_.close(); }

 private:
  MsgServerClient(Connection conn, MsgServerOptions options)
      : conn_(std::move(conn)), options_(options) {}
  // The reply to the request just sent with `seq`: command `cid`, same seq.
  Result<Pdu> await_reply(uint16_t cid, uint16_t seq);
  uint16_t next_seq() { return ++seq_num_; }

  Connection conn_;
  MsgServerOptions options_;
  uint16_t seq_num_ = 0;
};

}  // namespace ttfs::client
