#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "IM.File.pb.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "transfer/events.h"
#include "transfer/task.h"

namespace ttfs::transfer::testing {

// Events as the router would hand them over, with real PDUs where the task
// may relay them, so that forwarded bytes can be checked.

inline constexpr uint32_t kFromUser = 1001;
inline constexpr uint32_t kToUser = 2002;
inline constexpr uint32_t kStranger = 3003;
inline constexpr uint32_t kSeg = 32768;

inline ConnHandle conn(uint32_t slot, uint16_t thread = 0) { return {thread, slot, 1}; }

inline TaskInfo make_info(Mode mode, uint64_t file_size) {
  TaskInfo info;
  info.id = TaskId::parse("6f1d7c1e-2b3a-4c5d-8e9f-0a1b2c3d4e5f").value();
  info.id_text = info.id.str();
  info.from_user_id = kFromUser;
  info.to_user_id = kToUser;
  info.file_name = "photo.jpg";
  info.file_size = file_size;
  info.mode = mode;
  info.created_at_unix = 1700000000;
  return info;
}

// A fixed origin, far from the clock's epoch so that subtracting timeouts
// never underflows.
inline Clock::time_point t0() { return Clock::time_point{} + std::chrono::hours(1000); }

inline Login make_login(ConnHandle c, uint16_t seq, uint32_t user, Role role) {
  Login l;
  l.conn = c;
  l.seq = seq;
  l.task = make_info(IM::BaseDefine::FILE_TYPE_ONLINE, 0).id;
  l.user_id = user;
  l.role = role;
  return l;
}

inline PullRequest make_pull(ConnHandle c, uint16_t seq, uint32_t user, uint32_t offset,
                             uint32_t size, Mode mode) {
  PullRequest r;
  r.conn = c;
  r.seq = seq;
  r.task = make_info(mode, 0).id;
  r.user_id = user;
  r.mode = mode;
  r.offset = offset;
  r.size = size;
  IM::File::IMFilePullDataReq body;
  body.set_task_id(r.task.str());
  body.set_user_id(user);
  body.set_trans_mode(mode);
  body.set_offset(offset);
  body.set_data_size(size);
  r.pdu = net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, seq, body);
  return r;
}

// The byte every payload holds at a file position, so that stored and relayed
// data can be checked wherever it ends up.
inline uint8_t pattern_at(uint64_t pos) { return static_cast<uint8_t>(pos * 131 + (pos >> 8)); }

inline PullResponse make_response(ConnHandle c, uint16_t seq, uint32_t user, uint32_t offset,
                                  size_t size, uint32_t result_code = 0) {
  PullResponse r;
  r.conn = c;
  r.seq = seq;
  r.task = make_info(IM::BaseDefine::FILE_TYPE_ONLINE, 0).id;
  r.result_code = result_code;
  r.user_id = user;
  r.offset = offset;
  auto built = net::build_pull_data_rsp(seq, result_code, r.task.str(), user, offset, size);
  for (size_t i = 0; i < size; ++i)
    built.pdu.data()[built.data_offset + i] = pattern_at(offset + i);
  r.data.offset = built.data_offset;
  r.data.length = size;
  r.data.block = std::move(built.pdu);
  return r;
}

inline StateReport make_state(ConnHandle c, uint32_t user, FileState state, uint16_t seq = 0) {
  StateReport s;
  s.conn = c;
  s.seq = seq;
  s.task = make_info(IM::BaseDefine::FILE_TYPE_ONLINE, 0).id;
  s.user_id = user;
  s.state = state;
  IM::File::IMFileState body;
  body.set_state(state);
  body.set_task_id(s.task.str());
  body.set_user_id(user);
  s.pdu = net::encode_pdu(net::kSidFile, net::kCidFileState, seq, body);
  return s;
}

inline StoreDone store_done(StoreDone::Kind kind, uint64_t offset = 0, uint64_t length = 0,
                            int error = 0) {
  StoreDone d;
  d.kind = kind;
  d.task = make_info(IM::BaseDefine::FILE_TYPE_OFFLINE, 0).id;
  d.offset = offset;
  d.length = length;
  d.error = error;
  return d;
}

}  // namespace ttfs::transfer::testing
