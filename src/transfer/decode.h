#pragma once

#include <optional>
#include <string>

#include "common/bytes.h"
#include "common/task_id.h"
#include "net/pdu.h"
#include "transfer/events.h"

namespace ttfs::transfer {

// The decoding of what arrives from outside into worker events, apart from
// the router's bookkeeping (which connection logged in to which task) and
// from where the events go, so that it can be tested and fuzzed alone. Each
// function takes a whole framed PDU, header included, and trusts nothing in
// its body.

// FILE_TRANSFER_REQ on the msg-server port: the task to create, with all but
// its id and creation time, which the router sets; nullopt when the body
// does not parse.
std::optional<CreateTask> decode_transfer_req(ConnHandle conn, const net::PduHeader& header,
                                              const Bytes& pdu);

struct DecodedLogin {
  const char* malformed = nullptr;  // the body does not parse: closed without a reply
  std::string task_id;              // as sent, for a refusing LOGIN_RSP to echo
  std::optional<Login> login;       // absent when task_id is not a canonical UUID
};

// LOGIN_REQ on the client port.
DecodedLogin decode_login(ConnHandle conn, const net::PduHeader& header, const Bytes& pdu);

struct DecodedCommand {
  std::optional<WorkerEvent> event;  // a PullResponse, PullRequest or StateReport
  const char* refusal = nullptr;     // why the connection is closed instead
};

// A command of a connection logged in to `task`: PULL_DATA_RSP, PULL_DATA_REQ
// or FILE_STATE, naming that task. The PDU travels on in the event, for a
// relay to forward as it came. With `checksum_payload` (an upload's
// connection), a PULL_DATA_RSP's payload gets its CRC-32C taken now, on the
// IO thread, while the bytes the kernel just copied are in its cache.
DecodedCommand decode_task_command(ConnHandle conn, const net::PduHeader& header, Bytes pdu,
                                   const TaskId& task, bool checksum_payload = false);

}  // namespace ttfs::transfer
