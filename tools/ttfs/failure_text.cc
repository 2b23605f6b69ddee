#include "ttfs/failure_text.h"

namespace ttfs::tool {

std::string reason(const client::Status& status) {
  using client::ErrorCode;
  const std::string& detail = status.message();
  switch (status.code()) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kTimeout: return "timed out: " + detail;
    case ErrorCode::kClosed:
      if (detail.find("closed") != std::string::npos) return detail;
      return "the connection was lost: " + detail;
    case ErrorCode::kProtocol: return "the server broke the protocol: " + detail;
    case ErrorCode::kRefused: return "refused by the server: " + detail;
    case ErrorCode::kPeerEnded: return detail;
    case ErrorCode::kStopped: return detail;
    case ErrorCode::kIo: return detail;
    case ErrorCode::kInvalidArgument: return detail;
  }
  return status.to_string();
}

}  // namespace ttfs::tool
