#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "net/pdu.h"

namespace ttfs::load {

class Conn;
class Pattern;

// Why a transfer failed; each is counted and printed by name.
enum class Failure : uint8_t {
  kNone,
  kCreate,        // the msg-server port refused or lost the task creation
  kConnect,       // the client port could not be reached
  kLoginRefused,  // LOGIN_RSP with a non-zero result
  kClosed,        // the server closed the connection before the end
  kSocket,        // a socket error
  kProtocol,      // a malformed PDU or one that has no place in the flow
  kBadRequest,    // a PULL_DATA_REQ outside the file, or for another task
  kBadReply,      // a PULL_DATA_RSP with an error, an unasked offset or a wrong size
  kMismatch,      // payload bytes that differ from what was uploaded
  kPeerEnded,     // CANCEL or REFUSE from the other side
  kStall,         // no progress for --stall-timeout
  kStopped,       // cut off by --duration-limit
  kCount,
};

const char* failure_name(Failure failure);

// One transfer's task, as the msg-server port created it.
struct Task {
  std::string id;
  uint32_t from = 0;
  uint32_t to = 0;
  uint32_t size = 0;
  uint32_t salt = 0;
};

// Counted by the thread that owns the peers, summed at the end.
struct Counters {
  uint64_t segments = 0;  // PULL_DATA_RSPs with payload sent (upload) or checked (receivers)
  uint64_t payload_bytes = 0;
  uint64_t mismatched_segments = 0;
};

enum class Status { kRunning, kDone, kFailed };

// The protocol logic of one simulated client connection: no I/O of its own,
// it queues output on the Conn it is given and answers each PDU with where
// it stands.
class Peer {
 public:
  virtual ~Peer() = default;

  // The connection is open (or opening): queue the LOGIN_REQ.
  virtual void start(Conn& conn) = 0;
  virtual Status on_frame(Conn& conn, const net::PduHeader& header,
                          std::span<const uint8_t> body) = 0;
  // The server closed the connection.
  virtual Status on_eof() { return fail(Failure::kClosed); }

  Failure failure() const { return failure_; }

 protected:
  Status fail(Failure failure) {
    failure_ = failure;
    return Status::kFailed;
  }

 private:
  Failure failure_ = Failure::kNone;
};

}  // namespace ttfs::load
