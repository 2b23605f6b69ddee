#pragma once

#include <string>

#include "ttfs/options.h"

namespace ttfs::tool {

// The command the receiver runs, with every option that differs from the
// defaults, so it can be pasted as printed.
std::string recv_command_line(const Ticket& ticket, const GlobalOptions& global);

// True for a task id in the server's canonical form (lower-case UUID text).
bool is_task_id(const std::string& text);

}  // namespace ttfs::tool
