#include "peer.h"

namespace ttfs::load {

const char* failure_name(Failure failure) {
  switch (failure) {
    case Failure::kNone: return "none";
    case Failure::kCreate: return "create";
    case Failure::kConnect: return "connect";
    case Failure::kLoginRefused: return "login_refused";
    case Failure::kClosed: return "closed";
    case Failure::kSocket: return "socket";
    case Failure::kProtocol: return "protocol";
    case Failure::kBadRequest: return "bad_request";
    case Failure::kBadReply: return "bad_reply";
    case Failure::kMismatch: return "mismatch";
    case Failure::kPeerEnded: return "peer_ended";
    case Failure::kStall: return "stall";
    case Failure::kStopped: return "stopped";
    case Failure::kCount: break;
  }
  return "?";
}

}  // namespace ttfs::load
