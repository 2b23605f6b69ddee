#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "client/connection.h"
#include "client/status.h"
#include "client/transfer_types.h"

namespace google::protobuf {
class MessageLite;
}

namespace ttfs::client {

// One peer's connection to the client port: login, FILE_STATE, heartbeats,
// and waiting for the next meaningful PDU. The four roles are built on it.
class FileSession {
 public:
  FileSession(Endpoint server, TaskInfo task, FileRole role, SessionOptions options);

  const TaskInfo& task() const { return task_; }
  const SessionOptions& options() const { return options_; }
  bool is_open() const { return conn_.is_open(); }

  // TCP connect, LOGIN_REQ, and LOGIN_RSP with result 0; kRefused otherwise.
  // Idempotent once it has succeeded.
  Status open();

  // The next PDU other than a HEARTBEAT (the server only echoes ours, so
  // one is never answered). Sends our own heartbeat when we have been quiet
  // for heartbeat_interval. kTimeout after `timeout` without any PDU.
  Result<Pdu> next(std::chrono::milliseconds timeout);
  Result<Pdu> next() { return next(options_.timeout); }

  // FILE_STATE {state, task_id, user_id = our own id}.
  Status send_state(FileState state);
  Status send(std::span<const uint8_t> pdu);
  Status send_message(uint16_t command_id, uint16_t seq_num,
                      const google::protobuf::MessageLite& body);
  Status send_heartbeat();

  // The next FILE_STATE, skipping heartbeats; any other PDU is an error.
  Result<StateEvent> wait_state(std::chrono::milliseconds timeout);
  // Parses a FILE_STATE PDU (and checks it names our task).
  Result<StateEvent> parse_state(const Pdu& pdu) const;

  uint16_t next_seq() { return ++seq_num_ == 0 ? ++seq_num_ : seq_num_; }

  // Ends the transfer early on purpose once `result` counts `stop_after`
  // segments: sends `state` if given and closes gracefully, or drops the
  // connection; `result` then says kStopped. True when it stopped.
  bool stop_if_due(std::optional<uint64_t> stop_after, std::optional<FileState> state,
                   TransferResult& result);

  void close_gracefully() { conn_.close_gracefully(options_.close_grace); }
  void close() { conn_.close(); }

 private:
  Endpoint server_;
  TaskInfo task_;
  FileRole role_;
  SessionOptions options_;
  Connection conn_;
  bool logged_in_ = false;
  uint16_t seq_num_ = 0;
  std::chrono::steady_clock::time_point last_send_{};
};

// "sid 5 cid 0x0504" for error messages.
std::string describe(const net::PduHeader& header);

}  // namespace ttfs::client
