#include "client/status.h"

namespace ttfs::client {

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kClosed: return "closed";
    case ErrorCode::kProtocol: return "protocol error";
    case ErrorCode::kRefused: return "refused";
    case ErrorCode::kPeerEnded: return "ended by peer";
    case ErrorCode::kStopped: return "stopped";
    case ErrorCode::kIo: return "i/o error";
    case ErrorCode::kInvalidArgument: return "invalid argument";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = client::to_string(code_);
  if (!message_.empty()) s += ": " + message_;
  return s;
}

}  // namespace ttfs::client
