#pragma once

#include "client/data_io.h"
#include "client/file_session.h"
#include "client/serve_options.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// The loop shared by the two roles that hold the file: answer each
// PULL_DATA_REQ as it arrives (several may be outstanding) until a FILE_STATE
// ends the transfer. Requests are checked against the task and file size.
class SegmentServer {
 public:
  SegmentServer(FileSession& session, const ReadAt& source, const ServeOptions& options)
      : session_(session), source_(source), options_(options) {}

  // Runs until DONE (ok), another state (kPeerEnded), or a failure. Fills
  // bytes, segments and final_state of `result`.
  void run(TransferResult& result);

 private:
  Status answer(const Pdu& request, TransferResult& result);
  Status send_reply(uint16_t seq, std::string_view task_id, uint32_t offset, size_t data_size,
                    uint64_t read_offset);

  FileSession& session_;
  const ReadAt& source_;
  const ServeOptions& options_;
};

}  // namespace ttfs::client
