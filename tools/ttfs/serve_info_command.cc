#include "ttfs/commands.h"
#include "ttfs/exit_codes.h"
#include "ttfs/failure_text.h"

namespace ttfs::tool {

int run_serve_info(const GlobalOptions& global, Console& console) {
  const std::string where = global.server + ":" + std::to_string(global.msg_port);
  client::MsgServerOptions mo;
  mo.connect_timeout = global.timeout;
  mo.timeout = global.timeout;
  auto msg = client::MsgServerClient::connect(global.msg_endpoint(), mo);
  if (!msg) {
    return fail(console, kExitTransferFailed,
                "cannot reach the msg-server port " + where + ": " + reason(msg.status()));
  }
  auto addresses = msg->server_addresses();
  if (!addresses) {
    return fail(console, kExitTransferFailed,
                "asking " + where + " for its addresses failed: " + reason(addresses.status()));
  }
  if (addresses->empty()) {
    return fail(console, kExitTransferFailed, where + " advertises no client-port address");
  }
  for (const client::ServerAddress& a : *addresses) console.out << a.ip << ':' << a.port << '\n';
  console.out.flush();
  return kExitOk;
}

}  // namespace ttfs::tool
