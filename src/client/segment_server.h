#pragma once

#include <optional>

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
  // `user_id` and `result_code` are the session's user and 0 unless a fault
  // spoils them.
  Status send_reply(uint16_t seq, std::string_view task_id, uint32_t offset, size_t data_size,
                    uint64_t read_offset, std::optional<uint32_t> user_id = std::nullopt,
                    uint32_t result_code = 0);

  FileSession& session_;
  const ReadAt& source_;
  const ServeOptions& options_;
};

}  // namespace ttfs::client
