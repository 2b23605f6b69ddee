#pragma once

#include "client/pull_options.h"

namespace ttfs::client {

struct DownloadOptions {
  PullOptions pull;
  // Wait for the server's FILE_STATE DONE after the last segment.
  bool expect_done = true;
  // Send our own FILE_STATE DONE after the last segment, as TeamTalk's
  // Windows client does in both modes (the original server has usually
  // closed the connection by then). Sent before waiting for the server's.
  bool send_done = false;
};

}  // namespace ttfs::client
