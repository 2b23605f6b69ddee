#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "client/data_io.h"
#include "client/file_session.h"
#include "client/pull_options.h"
#include "client/transfer_types.h"

namespace ttfs::client {

// The loop shared by the two roles that fetch a file: keep up to `window`
// PULL_DATA_REQs in flight, check each PULL_DATA_RSP against the request it
// answers, and write its bytes out.
class SegmentPuller {
 public:
  SegmentPuller(FileSession& session, TransferMode mode, const WriteAt& sink,
                const PullOptions& options);

  // Returns once every segment is in (ok), or on the first failure or
  // FILE_STATE. Fills bytes, segments and final_state of `result`.
  void run(TransferResult& result);

 private:
  struct Outstanding {
    uint64_t offset;
    uint32_t size;
  };

  Status request_next();
  Status accept(const Pdu& pdu, TransferResult& result);

  FileSession& session_;
  TransferMode mode_;
  const WriteAt& sink_;
  const PullOptions& options_;
  std::vector<uint64_t> order_;  // segment offsets in request order
  size_t next_ = 0;
  std::map<uint16_t, Outstanding> in_flight_;  // by seq_num
};

}  // namespace ttfs::client
