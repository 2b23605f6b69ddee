#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "net/pdu.h"
#include "transfer/task_effects.h"

namespace ttfs::transfer::testing {

// One call a task made on its effects, flattened so tests can compare it.
struct Effect {
  enum class Kind {
    kLoginRsp,
    kPullReq,
    kState,
    kForward,
    kSegment,
    kPullRefusal,
    kClose,
    kStoreBegin,
    kStoreWrite,
    kStoreFinalize,
    kStoreAbort,
  };

  Kind kind;
  ConnHandle conn;       // where it goes (none for store calls)
  uint16_t seq = 0;      // the seq_num it carries
  bool ok = false;       // login result
  uint32_t user_id = 0;  // FILE_STATE and PULL_DATA user_id
  uint64_t offset = 0;   // pull, segment, refusal, store_write; store_begin: resume_from
  uint64_t size = 0;     // pull, segment, store_write
  FileState state = IM::BaseDefine::CLIENT_FILE_PEER_READY;
  std::string why;      // close reason
  std::string task_id;  // the TaskInfo the call named
  // forward(): the PDU's seq_num as it arrived, and whether it was rewritten.
  uint16_t original_seq = 0;
  bool seq_patched = false;
  uint16_t command_id = 0;
  std::vector<uint8_t> data;  // forward(): the whole PDU; store_write(): the payload
};

inline const char* kind_name(Effect::Kind k) {
  switch (k) {
    case Effect::Kind::kLoginRsp: return "login_rsp";
    case Effect::Kind::kPullReq: return "pull_req";
    case Effect::Kind::kState: return "state";
    case Effect::Kind::kForward: return "forward";
    case Effect::Kind::kSegment: return "segment";
    case Effect::Kind::kPullRefusal: return "pull_refusal";
    case Effect::Kind::kClose: return "close";
    case Effect::Kind::kStoreBegin: return "store_begin";
    case Effect::Kind::kStoreWrite: return "store_write";
    case Effect::Kind::kStoreFinalize: return "store_finalize";
    case Effect::Kind::kStoreAbort: return "store_abort";
  }
  return "?";
}

inline std::ostream& operator<<(std::ostream& os, const Effect& e) {
  os << kind_name(e.kind) << "{conn=" << e.conn.slot << "/" << e.conn.generation << " seq=" << e.seq
     << " user=" << e.user_id << " off=" << e.offset << " size=" << e.size;
  if (e.kind == Effect::Kind::kState) os << " state=" << static_cast<int>(e.state);
  if (e.kind == Effect::Kind::kLoginRsp) os << " ok=" << e.ok;
  if (!e.why.empty()) os << " why=\"" << e.why << "\"";
  return os << "}";
}

// Records every decision a task makes instead of carrying it out.
class RecordingEffects final : public TaskEffects {
 public:
  using Kind = Effect::Kind;

  // Decides what send_segment() reports; by default every read succeeds.
  std::function<bool(ConnHandle to, uint64_t offset, uint32_t size)> segment_result =
      [](ConnHandle, uint64_t, uint32_t) { return true; };

  void send_login_rsp(ConnHandle to, uint16_t seq, const TaskInfo& task, bool ok) override {
    Effect e = make(Kind::kLoginRsp, to, task);
    e.seq = seq;
    e.ok = ok;
    log.push_back(std::move(e));
  }
  void send_pull_req(ConnHandle to, uint16_t seq, const TaskInfo& task, uint64_t offset,
                     uint32_t size) override {
    Effect e = make(Kind::kPullReq, to, task);
    e.seq = seq;
    e.offset = offset;
    e.size = size;
    log.push_back(std::move(e));
  }
  void send_state(ConnHandle to, const TaskInfo& task, FileState state, uint32_t user_id) override {
    Effect e = make(Kind::kState, to, task);
    e.state = state;
    e.user_id = user_id;
    log.push_back(std::move(e));
  }
  void forward(ConnHandle to, Bytes pdu, uint16_t seq) override {
    Effect e = make(Kind::kForward, to, nullptr);
    e.seq = seq;
    if (pdu.size() >= net::kPduHeaderSize) {
      const net::PduHeader h = net::read_header(pdu.data());
      e.original_seq = h.seq_num;
      e.command_id = h.command_id;
      e.seq_patched = h.seq_num != seq;
    }
    e.data.assign(pdu.data(), pdu.data() + pdu.size());
    log.push_back(std::move(e));
  }
  bool send_segment(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                    uint64_t offset, uint32_t size) override {
    Effect e = make(Kind::kSegment, to, task);
    e.seq = seq;
    e.user_id = user_id;
    e.offset = offset;
    e.size = size;
    e.ok = segment_result(to, offset, size);
    log.push_back(e);
    return e.ok;
  }
  void send_pull_refusal(ConnHandle to, uint16_t seq, const TaskInfo& task, uint32_t user_id,
                         uint64_t offset) override {
    Effect e = make(Kind::kPullRefusal, to, task);
    e.seq = seq;
    e.user_id = user_id;
    e.offset = offset;
    log.push_back(std::move(e));
  }
  void close(ConnHandle conn, const char* why) override {
    Effect e = make(Kind::kClose, conn, nullptr);
    e.why = why != nullptr ? why : "";
    log.push_back(std::move(e));
  }
  void store_begin(const TaskInfo& task, uint64_t resume_from) override {
    Effect e = make(Kind::kStoreBegin, {}, task);
    e.offset = resume_from;
    log.push_back(std::move(e));
  }
  void store_write(const TaskInfo& task, uint64_t offset, Payload data) override {
    Effect e = make(Kind::kStoreWrite, {}, task);
    e.offset = offset;
    e.size = data.size();
    e.data.assign(data.data(), data.data() + data.size());
    log.push_back(std::move(e));
  }
  void store_finalize(const TaskInfo& task) override {
    log.push_back(make(Kind::kStoreFinalize, {}, task));
  }
  void store_abort(const TaskInfo& task) override {
    log.push_back(make(Kind::kStoreAbort, {}, task));
  }
  uint32_t upload_window(uint32_t configured) const override {
    return std::min(configured, shared_window);
  }

  uint32_t shared_window = UINT32_MAX;  // what the worker would share down to

  std::vector<Effect> of(Kind kind) const {
    std::vector<Effect> out;
    for (const Effect& e : log) {
      if (e.kind == kind) out.push_back(e);
    }
    return out;
  }
  size_t count(Kind kind) const { return of(kind).size(); }
  size_t count(Kind kind, ConnHandle conn) const {
    size_t n = 0;
    for (const Effect& e : log) n += e.kind == kind && e.conn == conn;
    return n;
  }
  bool closed(ConnHandle conn) const { return count(Kind::kClose, conn) > 0; }
  // The effects recorded since the last take(), which are forgotten.
  std::vector<Effect> take() {
    std::vector<Effect> out;
    out.swap(log);
    return out;
  }
  void clear() { log.clear(); }

  std::vector<Effect> log;

 private:
  static Effect make(Kind kind, ConnHandle conn, const TaskInfo* task) {
    Effect e{};
    e.kind = kind;
    e.conn = conn;
    if (task != nullptr) e.task_id = task->id_text;
    return e;
  }
  static Effect make(Kind kind, ConnHandle conn, const TaskInfo& task) {
    return make(kind, conn, &task);
  }
};

inline std::string dump(const std::vector<Effect>& log) {
  std::string out;
  for (const Effect& e : log) {
    std::ostringstream os;
    os << e;
    out += os.str() + "\n";
  }
  return out;
}

}  // namespace ttfs::transfer::testing
