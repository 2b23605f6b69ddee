#pragma once

#include <vector>

#include "peer.h"

namespace ttfs::load {

// The side that pulls the file: an offline downloader (role OFFLINE_DOWNLOAD,
// pulls as soon as it is logged in, ends at the server's DONE) or an online
// receiver (role REALTIME_RECVER, pulls after PEER_READY, sends DONE itself
// and ends when the server closes it). It keeps `window` PULL_DATA_REQs in
// flight in offset order (the original server insists on that order and
// stamps relayed replies with the latest seq_num, so replies are matched by
// offset) and compares every segment with the pattern in place.
class Receiver final : public Peer {
 public:
  Receiver(const Task& task, const Pattern& pattern, Counters& counters, uint32_t window,
           bool online);

  void start(Conn& conn) override;
  Status on_frame(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body) override;
  Status on_eof() override;

 private:
  enum class State { kLogin, kWaitReady, kPulling, kWaitDone, kDoneSent };

  Status on_data(Conn& conn, std::span<const uint8_t> body);
  // Tops the window up; at the end, waits for DONE or sends it.
  Status pump(Conn& conn);

  struct Pull {
    uint32_t offset;
    uint32_t size;
  };

  const Task& task_;
  const Pattern& pattern_;
  Counters& counters_;
  const uint32_t window_;
  const bool online_;
  State state_ = State::kLogin;
  uint16_t next_seq_ = 2;  // 1 is the login
  uint64_t next_offset_ = 0;
  uint64_t received_ = 0;
  std::vector<Pull> in_flight_;  // oldest first
};

}  // namespace ttfs::load
