#include <algorithm>

#include "ttfs/commands.h"

namespace ttfs::tool {

client::SessionOptions session_options(const GlobalOptions& global, bool waits_for_peer) {
  client::SessionOptions s;
  s.connect_timeout = global.timeout;
  // An online peer may sit idle until the other one logs in; heartbeats
  // keep the connection alive meanwhile.
  s.timeout = waits_for_peer ? std::max(global.timeout, global.wait) : global.timeout;
  return s;
}

}  // namespace ttfs::tool
