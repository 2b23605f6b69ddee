#include "ttfs/ticket.h"

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

bool is_task_id(const std::string& text) {
  if (text.size() != 36) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace ttfs::tool
