#pragma once

#include <cstdint>
#include <optional>

#include "client/transfer_types.h"

namespace ttfs::client {

// Options of the roles that pull segments (OfflineDownloader, OnlineReceiver).
struct PullOptions {
  SessionOptions session;
  uint32_t segment_size = kSegmentSize;
  // PULL_DATA_REQs in flight; TeamTalk's clients use 1.
  uint32_t window = 1;
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
};

}  // namespace ttfs::client
