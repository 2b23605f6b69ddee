#pragma once

#include "ttfs/console.h"
#include "ttfs/options.h"

namespace ttfs::tool {

// Each command returns its exit code (exit_codes.h) and has said why on
// console.err when that is not 0. None of them throws or exits.

// Creates the task on the msg-server port, prints the receiver's command,
// then uploads (offline) or serves the receiver until it is done (online).
int run_send(const GlobalOptions& global, const SendOptions& options, Console& console);

// Downloads (offline, resumable) or receives (online) a task's file.
int run_recv(const GlobalOptions& global, const RecvOptions& options, Console& console,
             RecvStats* stats = nullptr);

// Prints the client-port addresses the server advertises, one per line.
int run_serve_info(const GlobalOptions& global, Console& console);

// The library's session settings for the global options.
client::SessionOptions session_options(const GlobalOptions& global, bool waits_for_peer);

}  // namespace ttfs::tool
