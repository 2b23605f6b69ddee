#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "client/transfer_types.h"

namespace ttfs::client {

// Options of the roles that pull segments (OfflineDownloader, OnlineReceiver).
struct PullOptions {
  SessionOptions session;
  uint32_t segment_size = kSegmentSize;
  // PULL_DATA_REQs in flight; TeamTalk's clients use 1.
  uint32_t window = 1;
  // Pull only the segments at these offsets (a resumed download), in this
  // order; unset, every segment of the file.
  std::optional<std::vector<uint64_t>> offsets;
  // Request the segments in a pseudo-random order (seeded, reproducible).
  bool shuffle = false;
  uint64_t shuffle_seed = 1;
  // Match each PULL_DATA_RSP to its request by seq_num as well as offset.
  // TeamTalk's own server stamps relayed replies with the latest seq_num, so
  // against it a window above 1 needs this off (offsets still match).
  bool match_seq_num = true;
  // Closes the connection abruptly after this many accepted segments, to
  // simulate a receiver that dies mid-transfer; the result is kStopped.
  std::optional<uint64_t> stop_after_segments;
  // Sent (then a graceful close) when stopping, e.g. CANCEL mid-transfer;
  // without it the connection is just dropped.
  std::optional<FileState> state_on_stop;
  // Polled after each accepted segment; true drops the connection and ends
  // the pull with kStopped ("interrupted"), e.g. on Ctrl-C.
  std::function<bool()> stop_requested;
};

}  // namespace ttfs::client
