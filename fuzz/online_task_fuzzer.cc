// OnlineTask driven by arbitrary event sequences: logins in every role and
// as anyone, pulls with any offset and size, answers to what was relayed (as
// asked or altered) or out of the blue, states, closes, store completions
// and time passing. Its effects are checked against what the relay
// promises: PEER_READY once, to the receiver, when both peers are there; a
// pull relayed only to the sender, with its own seq_num, within the window;
// an answer relayed only to the receiver, stamped with the seq_num of the
// very pull it answers and of the size that pull asked for; the store never
// touched; nothing for a connection after the task was told it is gone.

#include <algorithm>
#include <chrono>
#include <unordered_set>
#include <vector>

#include "fuzz_check.h"
#include "net/pdu.h"
#include "quiet_protobuf.h"
#include "task_fuzz_input.h"
#include "transfer/online_task.h"

namespace {

using namespace ttfs;
using namespace ttfs::transfer;
using fuzz::TaskFuzzInput;
using IM::BaseDefine::CLIENT_FILE_PEER_READY;
using IM::BaseDefine::CLIENT_REALTIME_RECVER;
using IM::BaseDefine::CLIENT_REALTIME_SENDER;
using Peer = TaskFuzzInput::Peer;

struct Relayed {
  uint16_t seq;  // the receiver's
  uint32_t offset;
  uint32_t size;
};

class CheckingEffects final : public TaskEffects {
 public:
  CheckingEffects(TaskFuzzInput& input, const TaskInfo& info, const TransferLimits& limits)
      : input_(input), info_(info), limits_(limits) {}

  void send_login_rsp(ConnHandle to, uint16_t, const TaskInfo& task, bool ok) override {
    check_target(to, task);
    if (!ok) return;
    const Peer* peer = input_.find(to);
    FUZZ_CHECK(peer->role == CLIENT_REALTIME_SENDER || peer->role == CLIENT_REALTIME_RECVER);
    FUZZ_CHECK(peer->user_id ==
               (peer->role == CLIENT_REALTIME_SENDER ? info_.from_user_id : info_.to_user_id));
    (peer->role == CLIENT_REALTIME_SENDER ? sender : receiver) = to;
  }
  void send_pull_req(ConnHandle, uint16_t, const TaskInfo&, uint64_t, uint32_t) override {
    FUZZ_CHECK(false);  // an online sender is asked only what the receiver asks
  }
  void send_state(ConnHandle to, const TaskInfo& task, FileState state, uint32_t) override {
    check_target(to, task);
    if (state != CLIENT_FILE_PEER_READY) return;
    FUZZ_CHECK(to == receiver && sender.valid());
    FUZZ_CHECK(!peer_ready_);
    peer_ready_ = true;
  }
  void forward(ConnHandle to, Bytes pdu, uint16_t seq) override {
    FUZZ_CHECK(!gone_.contains(to));
    FUZZ_CHECK(pdu.size() >= net::kPduHeaderSize);
    const net::PduHeader header = net::read_header(pdu.data());
    if (header.command_id == net::kCidFilePullDataReq) {
      FUZZ_CHECK(peer_ready_ && to == sender);
      FUZZ_CHECK(seq == header.seq_num);
      FUZZ_CHECK(relayed.size() < limits_.relay_window);
      FUZZ_CHECK(expected_pull != nullptr && seq == expected_pull->seq);
      relayed.push_back(*expected_pull);
    } else if (header.command_id == net::kCidFilePullDataRsp) {
      FUZZ_CHECK(to == receiver && answered != nullptr);
      const auto it = std::find_if(relayed.begin(), relayed.end(),
                                   [&](const Relayed& r) { return r.offset == answered->offset; });
      FUZZ_CHECK(it != relayed.end());
      FUZZ_CHECK(seq == it->seq);
      const uint64_t expected = std::min<uint64_t>(it->size, info_.file_size - it->offset);
      FUZZ_CHECK(answered->result_code != 0 || answered->data.size() == expected);
      relayed.erase(it);
    } else {
      FUZZ_CHECK(header.command_id == net::kCidFileState);
    }
  }
  bool send_segment(ConnHandle, uint16_t, const TaskInfo&, uint32_t, uint64_t, uint32_t) override {
    FUZZ_CHECK(false);  // nothing is stored to be read
    return false;
  }
  void send_pull_refusal(ConnHandle to, uint16_t, const TaskInfo& task, uint32_t,
                         uint64_t) override {
    check_target(to, task);
  }
  void close(ConnHandle conn, const char* why) override {
    FUZZ_TRACE("  -> close conn %u: %s\n", conn.slot, why);
    check_target(conn, info_);
  }
  void store_begin(const TaskInfo&, uint64_t) override { FUZZ_CHECK(false); }
  void store_write(const TaskInfo&, uint64_t, Payload) override { FUZZ_CHECK(false); }
  void store_finalize(const TaskInfo&) override { FUZZ_CHECK(false); }
  void store_abort(const TaskInfo&) override { FUZZ_CHECK(false); }

  void gone(ConnHandle conn) { gone_.insert(conn); }

  ConnHandle sender;
  ConnHandle receiver;
  std::vector<Relayed> relayed;  // pulls relayed to the sender, not yet answered
  const Relayed* expected_pull = nullptr;
  const PullResponse* answered = nullptr;

 private:
  void check_target(ConnHandle to, const TaskInfo& task) {
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(input_.find(to) != nullptr);
    FUZZ_CHECK(!gone_.contains(to));
  }

  TaskFuzzInput& input_;
  const TaskInfo& info_;
  const TransferLimits& limits_;
  bool peer_ready_ = false;
  std::unordered_set<ConnHandle> gone_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TaskFuzzInput input(data, size);
  FuzzedDataProvider& in = input.in();

  TransferLimits limits;
  limits.relay_window = in.ConsumeIntegralInRange<uint32_t>(1, 8);
  limits.max_pull_size = in.ConsumeIntegralInRange<uint32_t>(1, 256);
  const uint64_t file_size = in.ConsumeIntegralInRange<uint64_t>(0, 1024);
  const TaskInfo info = transfer::testing::make_info(IM::BaseDefine::FILE_TYPE_ONLINE, file_size);

  auto now = transfer::testing::t0();
  CheckingEffects fx(input, info, limits);
  OnlineTask task(info, limits, now);

  while (input.more()) {
    switch (in.ConsumeIntegralInRange(0, 6)) {
      case 0: {  // a new connection logs in
        const Role role = input.role();
        Peer& peer = input.add_peer(role, input.user());
        FUZZ_TRACE("login conn %u role %d user %u\n", peer.conn.slot, role, peer.user_id);
        task.on_login(transfer::testing::make_login(peer.conn, input.seq(), peer.user_id, role),
                      now, fx);
        break;
      }
      case 1: {  // a pull
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        const uint32_t offset = in.ConsumeIntegralInRange<uint32_t>(0, 1100);
        const uint32_t pull_size = in.ConsumeIntegralInRange<uint32_t>(0, 300);
        const Relayed expected{input.seq(), offset, pull_size};
        auto pull = transfer::testing::make_pull(peer->conn, expected.seq, input.user(), offset,
                                                 pull_size, IM::BaseDefine::FILE_TYPE_ONLINE);
        FUZZ_TRACE("pull conn %u seq %u off %u size %u\n", peer->conn.slot, expected.seq, offset,
                   pull_size);
        fx.expected_pull = &expected;
        task.on_pull_request(pull, now, fx);
        fx.expected_pull = nullptr;
        break;
      }
      case 2: {  // an answer: to a relayed pull, as asked or altered, or out of the blue
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        ConnHandle from = peer->conn;
        uint32_t offset = in.ConsumeIntegralInRange<uint32_t>(0, 1100);
        size_t length = in.ConsumeIntegralInRange<size_t>(0, 300);
        uint32_t user = input.user();
        uint32_t result = in.ConsumeIntegralInRange(0, 7) == 0 ? 1 : 0;
        if (!fx.relayed.empty() && fx.sender.valid() && !input.find(fx.sender)->gone &&
            in.ConsumeBool()) {
          const Relayed& pull =
              fx.relayed[in.ConsumeIntegralInRange<size_t>(0, fx.relayed.size() - 1)];
          from = fx.sender;
          offset = pull.offset;
          length = std::min<uint64_t>(pull.size, file_size - pull.offset);
          user = info.from_user_id;
          if (in.ConsumeIntegralInRange(0, 3) == 0) length = in.ConsumeIntegralInRange(0, 300);
        }
        auto rsp =
            transfer::testing::make_response(from, input.seq(), user, offset, length, result);
        FUZZ_TRACE("answer conn %u off %u len %zu result %u\n", from.slot, offset, length, result);
        fx.answered = &rsp;
        task.on_pull_response(rsp, now, fx);
        fx.answered = nullptr;
        break;
      }
      case 3: {  // a state from a peer
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        const auto state = static_cast<FileState>(in.ConsumeIntegralInRange(0, 3));
        auto report = transfer::testing::make_state(peer->conn, input.user(), state, input.seq());
        FUZZ_TRACE("state conn %u state %d\n", peer->conn.slot, state);
        task.on_state(report, now, fx);
        break;
      }
      case 4: {  // a connection closes
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        peer->gone = true;
        fx.gone(peer->conn);
        FUZZ_TRACE("closed conn %u\n", peer->conn.slot);
        task.on_conn_closed(peer->conn, now, fx);
        break;
      }
      case 5: {  // the store has nothing to say to an online task
        const auto kind = static_cast<StoreDone::Kind>(in.ConsumeIntegralInRange(0, 3));
        FUZZ_CHECK(!task.on_store_done(transfer::testing::store_done(kind), now, fx).ok());
        break;
      }
      default:  // time passes
        now += std::chrono::seconds(in.ConsumeIntegralInRange(0, 200));
        task.on_tick(now, fx);
        break;
    }
    FUZZ_CHECK(task.outstanding_pulls() <= limits.relay_window);
    FUZZ_CHECK(task.outstanding_pulls() == fx.relayed.size());
    (void)task.finished();
    (void)task.transferring();
  }
  return 0;
}
