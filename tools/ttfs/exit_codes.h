#pragma once

namespace ttfs::tool {

// Scripts tell failures apart by these, so they are part of the interface
// (README lists them): never renumber.
enum ExitCode : int {
  kExitOk = 0,
  kExitTransferFailed = 1,  // the server, the network or the peer: try again later
  kExitUsage = 2,           // the command line itself is wrong
  kExitLocalFile = 3,       // a local file cannot be read, written or resumed
  kExitInterrupted = 130,   // Ctrl-C or SIGTERM; a download resumes on the next run
};

}  // namespace ttfs::tool
