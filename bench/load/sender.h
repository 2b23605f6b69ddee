#pragma once

#include "peer.h"

namespace ttfs::load {

// The side that has the file and answers pulls: an offline uploader (role
// OFFLINE_UPLOAD, the server pulls) or an online sender (role REALTIME_SENDER,
// the server forwards the receiver's pulls). Every PULL_DATA_REQ is answered
// at once, with the request's seq_num, so any number may be outstanding (the
// original server sends one at a time with seq 0, ttfsd a window). The end is
// the FILE_STATE DONE the server sends (upload) or forwards (online).
class Sender final : public Peer {
 public:
  Sender(const Task& task, const Pattern& pattern, Counters& counters, bool online);

  void start(Conn& conn) override;
  Status on_frame(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body) override;

 private:
  Status on_pull(Conn& conn, const net::PduHeader& header, std::span<const uint8_t> body);

  const Task& task_;
  const Pattern& pattern_;
  Counters& counters_;
  const bool online_;
  bool logged_in_ = false;
};

}  // namespace ttfs::load
