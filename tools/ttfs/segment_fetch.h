#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "client/client.h"

namespace ttfs::tool {

struct FetchOptions {
  uint32_t window = 8;  // PULL_DATA_REQs in flight
  // Drops the connection after this many segments (kStopped), as a cut
  // network would.
  std::optional<uint64_t> cut_after_segments;
  // Polled between segments; true ends the fetch with kStopped.
  std::function<bool()> stop_requested;
};

// Pulls just the segments at `offsets` of an offline task over a logged-in
// OFFLINE_DOWNLOAD session. The library's OfflineDownloader always pulls the
// whole file; a resumed download needs a subset. Each reply is checked
// against its request (seq_num and offset, exact size), written through
// `sink`, then reported to `on_segment`.
client::TransferResult fetch_segments(client::FileSession& session,
                                      const std::vector<uint64_t>& offsets,
                                      const client::WriteAt& sink,
                                      const std::function<void(uint64_t, uint32_t)>& on_segment,
                                      const FetchOptions& options);

}  // namespace ttfs::tool
