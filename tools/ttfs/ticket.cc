#include "ttfs/ticket.h"

#include "common/task_id.h"

namespace ttfs::tool {

std::string recv_command_line(const Ticket& ticket, const GlobalOptions& global) {
  const GlobalOptions defaults;
  std::string line = "ttfs recv " + ticket.task_id + " --size " + std::to_string(ticket.file_size) +
                     " --user " + std::to_string(ticket.to_user);
  if (ticket.mode == client::TransferMode::kOnline) line += " --online";
  if (global.server != defaults.server) line += " --server " + global.server;
  if (global.client_port != defaults.client_port)
    line += " --client-port " + std::to_string(global.client_port);
  return line;
}

bool is_task_id(const std::string& text) { return TaskId::parse(text).has_value(); }

}  // namespace ttfs::tool
