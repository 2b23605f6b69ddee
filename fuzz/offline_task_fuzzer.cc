// OfflineTask driven by arbitrary event sequences: logins in every role and
// as anyone, pulls and answers with any offset, size and seq_num (or the
// right ones), states, closes, store completions in any order and with
// errors, and time passing. Its effects are checked against what the task
// promises: writes only of whole segments on the grid, within the file, once
// each, between store_begin and the end of the store's work; finalize only
// once every segment is durable; DONE to an uploader only after the store
// said the file is finalized, and to a downloader only once it was sent
// every segment; the window never exceeded; and nothing for a connection
// after the task was told it is gone.

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "fuzz_check.h"
#include "quiet_protobuf.h"
#include "task_fuzz_input.h"
#include "transfer/offline_task.h"
#include "transfer/segment_grid.h"

namespace {

using namespace ttfs;
using namespace ttfs::transfer;
using fuzz::TaskFuzzInput;
using IM::BaseDefine::CLIENT_FILE_DONE;
using IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD;
using IM::BaseDefine::CLIENT_OFFLINE_UPLOAD;
using Peer = TaskFuzzInput::Peer;

struct PendingPull {
  ConnHandle conn;
  uint16_t seq;
  uint64_t offset;
  uint32_t size;
};

class CheckingEffects final : public TaskEffects {
 public:
  CheckingEffects(TaskFuzzInput& input, const TaskInfo& info, const TransferLimits& limits)
      : input_(input), info_(info), limits_(limits), grid_(info.file_size, limits.segment_size) {}

  void send_login_rsp(ConnHandle to, uint16_t, const TaskInfo& task, bool) override {
    check_target(to, task);
  }
  void send_pull_req(ConnHandle to, uint16_t seq, const TaskInfo& task, uint64_t offset,
                     uint32_t size) override {
    check_target(to, task);
    const Peer* peer = input_.find(to);
    FUZZ_CHECK(peer->role == CLIENT_OFFLINE_UPLOAD && peer->user_id == info_.from_user_id);
    FUZZ_CHECK(grid_.is_segment_start(offset));
    FUZZ_CHECK(size == grid_.size_of(grid_.index_of(offset)));
    FUZZ_CHECK(!stored_.contains(grid_.index_of(offset)));
    FUZZ_TRACE("  -> pull_req conn %u seq %u off %lu size %u\n", to.slot, seq, offset, size);
    pulls.push_back({to, seq, offset, size});
  }
  void send_state(ConnHandle to, const TaskInfo& task, FileState state, uint32_t) override {
    FUZZ_TRACE("  -> state %d to conn %u\n", state, to.slot);
    check_target(to, task);
    if (state != CLIENT_FILE_DONE) return;
    const Peer* peer = input_.find(to);
    if (peer->role == CLIENT_OFFLINE_UPLOAD) {
      FUZZ_CHECK(finalized_ok);
    } else {
      FUZZ_CHECK(peer->role == CLIENT_OFFLINE_DOWNLOAD);
      FUZZ_CHECK(sent_[to].size() == grid_.count());
    }
  }
  void forward(ConnHandle, Bytes, uint16_t) override {
    FUZZ_CHECK(false);  // an offline task relays nothing
  }
  bool send_segment(ConnHandle to, uint16_t, const TaskInfo& task, uint32_t user_id,
                    uint64_t offset, uint32_t size) override {
    check_target(to, task);
    FUZZ_CHECK(finalized_ok);
    FUZZ_CHECK(user_id == info_.to_user_id && input_.find(to)->role == CLIENT_OFFLINE_DOWNLOAD);
    FUZZ_CHECK(grid_.is_segment_start(offset));
    FUZZ_CHECK(size > 0 && size <= limits_.max_pull_size && offset + size <= info_.file_size);
    const bool ok = !unreadable;
    if (ok) {
      for (uint64_t i = grid_.index_of(offset);
           i < grid_.count() && grid_.offset_of(i) + grid_.size_of(i) <= offset + size; ++i) {
        sent_[to].insert(i);
      }
    }
    return ok;
  }
  void send_pull_refusal(ConnHandle to, uint16_t, const TaskInfo& task, uint32_t,
                         uint64_t) override {
    check_target(to, task);
  }
  void close(ConnHandle conn, const char* why) override {
    FUZZ_TRACE("  -> close conn %u: %s\n", conn.slot, why);
    check_target(conn, info_);
  }

  void store_begin(const TaskInfo& task, uint64_t resume_from) override {
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(!begun_);
    FUZZ_CHECK(resume_from == resume_from_);
    begun_ = true;
    begun_pending = true;
  }
  void store_write(const TaskInfo& task, uint64_t offset, Payload data) override {
    FUZZ_TRACE("  -> store_write off %lu len %zu\n", offset, data.size());
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(begun_ && !ended_);
    FUZZ_CHECK(offset < info_.file_size && grid_.is_segment_start(offset));
    const uint64_t index = grid_.index_of(offset);
    FUZZ_CHECK(data.size() == grid_.size_of(index));
    FUZZ_CHECK(offset >= resume_from_);
    FUZZ_CHECK(issued_.insert(index).second);  // never written twice
    for (size_t i = 0; i < data.size(); ++i) {
      FUZZ_CHECK(data.data()[i] == transfer::testing::pattern_at(offset + i));
    }
    writes.push_back({{}, 0, offset, static_cast<uint32_t>(data.size())});
  }
  void store_finalize(const TaskInfo& task) override {
    FUZZ_TRACE("  -> store_finalize\n");
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(begun_ && !ended_);
    FUZZ_CHECK(writes.empty());
    FUZZ_CHECK(stored_.size() == grid_.count());
    ended_ = true;
    finalize_pending = true;
  }
  void store_abort(const TaskInfo& task) override {
    FUZZ_TRACE("  -> store_abort\n");
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(begun_);
    FUZZ_CHECK(!finalized_ok);
    ended_ = true;
    abort_pending = true;
  }

  // The store's side: what it reports back.
  void written(uint64_t index) { stored_.insert(index); }
  // Of a resumed upload: the whole segments within the durable prefix.
  void resumed(uint64_t durable) {
    for (uint64_t i = 0; i < grid_.count() && grid_.offset_of(i) + grid_.size_of(i) <= durable;
         ++i) {
      stored_.insert(i);
      issued_.insert(i);
      resume_from_ = grid_.offset_of(i) + grid_.size_of(i);
    }
  }
  void stored() {
    begun_ = ended_ = finalized_ok = true;
    for (uint64_t i = 0; i < grid_.count(); ++i) stored_.insert(i);
  }
  void gone(ConnHandle conn) { gone_.insert(conn); }
  bool store_open() const { return begun_ && !ended_; }

  std::vector<PendingPull> pulls;   // asked of an uploader, not yet answered
  std::vector<PendingPull> writes;  // with the store, not yet completed
  bool begun_pending = false;
  bool finalize_pending = false;
  bool abort_pending = false;
  bool finalized_ok = false;
  bool unreadable = false;

 private:
  void check_target(ConnHandle to, const TaskInfo& task) {
    FUZZ_CHECK(task.id == info_.id);
    FUZZ_CHECK(input_.find(to) != nullptr);
    FUZZ_CHECK(!gone_.contains(to));
  }

  TaskFuzzInput& input_;
  const TaskInfo& info_;
  const TransferLimits& limits_;
  SegmentGrid grid_;
  uint64_t resume_from_ = 0;
  bool begun_ = false;
  bool ended_ = false;
  std::set<uint64_t> issued_;
  std::set<uint64_t> stored_;
  std::unordered_set<ConnHandle> gone_;
  std::unordered_map<ConnHandle, std::set<uint64_t>> sent_;
};

int store_error(FuzzedDataProvider& in) {
  constexpr int kErrors[] = {0, 0, 0, ENOSPC, EIO, EROFS, EDQUOT, EINVAL};
  return kErrors[in.ConsumeIntegralInRange<size_t>(0, std::size(kErrors) - 1)];
}

StoreDone completion(StoreDone::Kind kind, uint64_t offset, uint64_t length, int error) {
  return transfer::testing::store_done(kind, offset, length, error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  TaskFuzzInput input(data, size);
  FuzzedDataProvider& in = input.in();

  // Small segments keep the payloads cheap; the real size is kept in play.
  TransferLimits limits;
  limits.segment_size = in.ConsumeBool() ? 32768 : in.ConsumeIntegralInRange<uint32_t>(1, 64);
  limits.upload_window = in.ConsumeIntegralInRange<uint32_t>(1, 8);
  limits.max_pull_size = in.ConsumeIntegralInRange<uint32_t>(1, 4 * limits.segment_size);
  const uint64_t file_size =
      in.ConsumeIntegralInRange<uint64_t>(0, uint64_t{limits.segment_size} * 12);
  const TaskInfo info = transfer::testing::make_info(IM::BaseDefine::FILE_TYPE_OFFLINE, file_size);
  const SegmentGrid grid(file_size, limits.segment_size);

  auto now = transfer::testing::t0();
  CheckingEffects fx(input, info, limits);
  std::unique_ptr<OfflineTask> task;
  switch (in.ConsumeIntegralInRange(0, 2)) {
    case 0: task = std::make_unique<OfflineTask>(info, limits, now); break;
    case 1: {
      const uint64_t durable = in.ConsumeIntegralInRange<uint64_t>(0, file_size);
      task = OfflineTask::resumed(info, durable, limits, now);
      fx.resumed(durable);
      break;
    }
    default:
      task = OfflineTask::stored(info, limits, now);
      fx.stored();
      break;
  }

  while (input.more()) {
    int op = in.ConsumeIntegralInRange(0, 9);
    // The disk writer works through a task's operations in order: it reports
    // the begin before anything that followed it.
    if (fx.begun_pending && (op == 5 || op == 6 || op == 8)) op = 7;
    switch (op) {
      case 0: {  // a new connection logs in
        const Role role = input.role();
        Peer& peer = input.add_peer(role, input.user());
        FUZZ_TRACE("login conn %u role %d user %u\n", peer.conn.slot, role, peer.user_id);
        task->on_login(transfer::testing::make_login(peer.conn, input.seq(), peer.user_id, role),
                       now, fx);
        break;
      }
      case 1: {  // a pull, on the grid or anywhere
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        const uint64_t index = in.ConsumeIntegralInRange<uint64_t>(0, grid.count());
        const uint32_t offset = in.ConsumeBool() ? static_cast<uint32_t>(grid.offset_of(index))
                                                 : in.ConsumeIntegral<uint32_t>();
        const uint32_t pull_size =
            in.ConsumeBool() ? limits.segment_size : in.ConsumeIntegralInRange<uint32_t>(0, 300);
        const Mode mode =
            in.ConsumeBool() ? IM::BaseDefine::FILE_TYPE_OFFLINE : IM::BaseDefine::FILE_TYPE_ONLINE;
        fx.unreadable = in.ConsumeIntegralInRange(0, 15) == 0;
        auto pull = transfer::testing::make_pull(peer->conn, input.seq(), input.user(), offset,
                                                 pull_size, mode);
        FUZZ_TRACE("pull conn %u off %u size %u\n", peer->conn.slot, offset, pull_size);
        task->on_pull_request(pull, now, fx);
        break;
      }
      case 2: {  // an answer: to a pull in flight, as asked or altered, or out of the blue
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        ConnHandle from = peer->conn;
        uint16_t seq = input.seq();
        uint32_t offset = in.ConsumeIntegral<uint32_t>() % static_cast<uint32_t>(file_size + 1);
        size_t length = in.ConsumeIntegralInRange<size_t>(0, 70);
        uint32_t user = input.user();
        uint32_t result = 0;
        if (!fx.pulls.empty() && in.ConsumeBool()) {
          const size_t i = in.ConsumeIntegralInRange<size_t>(0, fx.pulls.size() - 1);
          const PendingPull pull = fx.pulls[i];
          fx.pulls.erase(fx.pulls.begin() + static_cast<std::ptrdiff_t>(i));
          from = pull.conn;
          seq = pull.seq;
          offset = static_cast<uint32_t>(pull.offset);
          length = pull.size;
          user = info.from_user_id;
          switch (in.ConsumeIntegralInRange(0, 7)) {
            case 0: seq = 0; break;  // as TeamTalk's own clients answer
            case 1: seq = input.seq(); break;
            case 2: length = in.ConsumeIntegralInRange<size_t>(0, pull.size + 2); break;
            case 3: result = in.ConsumeIntegralInRange<uint32_t>(1, 2); break;
            case 4: user = input.user(); break;
            default: break;
          }
        }
        auto rsp = transfer::testing::make_response(from, seq, user, offset, length, result);
        FUZZ_TRACE("answer conn %u seq %u user %u off %u len %zu result %u\n", from.slot, seq, user,
                   offset, length, result);
        task->on_pull_response(rsp, now, fx);
        break;
      }
      case 3: {  // a state from a peer
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        const auto state = static_cast<FileState>(in.ConsumeIntegralInRange(0, 3));
        auto report = transfer::testing::make_state(peer->conn, input.user(), state, input.seq());
        FUZZ_TRACE("state conn %u state %d user %u\n", peer->conn.slot, state, report.user_id);
        task->on_state(report, now, fx);
        break;
      }
      case 4: {  // a connection closes
        Peer* peer = input.pick_peer();
        if (peer == nullptr) break;
        peer->gone = true;
        fx.gone(peer->conn);
        std::erase_if(fx.pulls, [&](const PendingPull& p) { return p.conn == peer->conn; });
        FUZZ_TRACE("closed conn %u\n", peer->conn.slot);
        task->on_conn_closed(peer->conn, now, fx);
        break;
      }
      case 5: {  // the store completes a write, alone or merged with the next ones
        if (fx.writes.empty()) break;
        std::sort(fx.writes.begin(), fx.writes.end(),
                  [](const PendingPull& a, const PendingPull& b) { return a.offset < b.offset; });
        size_t first = in.ConsumeIntegralInRange<size_t>(0, fx.writes.size() - 1);
        size_t last = first;
        while (last + 1 < fx.writes.size() && in.ConsumeBool() &&
               fx.writes[last + 1].offset == fx.writes[last].offset + fx.writes[last].size) {
          ++last;
        }
        const uint64_t offset = fx.writes[first].offset;
        const uint64_t end = fx.writes[last].offset + fx.writes[last].size;
        const int error = store_error(in);
        if (error == 0) {
          for (size_t i = first; i <= last; ++i) fx.written(grid.index_of(fx.writes[i].offset));
        }
        fx.writes.erase(fx.writes.begin() + static_cast<std::ptrdiff_t>(first),
                        fx.writes.begin() + static_cast<std::ptrdiff_t>(last + 1));
        FUZZ_TRACE("written off %lu len %lu error %d\n", offset, end - offset, error);
        task->on_store_done(completion(StoreDone::Kind::kWritten, offset, end - offset, error), now,
                            fx);
        break;
      }
      case 6: {  // the store completes the finalize
        if (!fx.finalize_pending) break;
        fx.finalize_pending = false;
        const int error = store_error(in);
        if (error == 0) fx.finalized_ok = true;
        FUZZ_TRACE("finalized error %d\n", error);
        task->on_store_done(completion(StoreDone::Kind::kFinalized, 0, 0, error), now, fx);
        break;
      }
      case 7: {  // the store reports a begin or an abort it was asked for
        if (fx.begun_pending) {
          fx.begun_pending = false;
          const int error = store_error(in);
          FUZZ_TRACE("begun error %d\n", error);
          task->on_store_done(completion(StoreDone::Kind::kBegun, 0, 0, error), now, fx);
        } else if (fx.abort_pending) {
          fx.abort_pending = false;
          FUZZ_TRACE("aborted\n");
          task->on_store_done(completion(StoreDone::Kind::kAborted, 0, 0, 0), now, fx);
        }
        break;
      }
      case 8: {  // a completion for nothing in flight, which must change nothing
        // The store reports only on an upload it has open.
        if (!fx.store_open() || !fx.writes.empty() || fx.finalize_pending) break;
        const auto kind =
            in.ConsumeBool() ? StoreDone::Kind::kWritten : StoreDone::Kind::kFinalized;
        task->on_store_done(completion(kind, in.ConsumeIntegralInRange<uint64_t>(0, file_size),
                                       in.ConsumeIntegralInRange<uint64_t>(0, file_size), 0),
                            now, fx);
        break;
      }
      default:  // time passes
        now += std::chrono::seconds(in.ConsumeIntegralInRange(0, 200));
        FUZZ_TRACE("tick %ld\n", static_cast<long>((now - transfer::testing::t0()).count()));
        task->on_tick(now, fx);
        break;
    }
    FUZZ_CHECK(task->in_flight() <= limits.upload_window);
    FUZZ_CHECK(task->segments_written() <= grid.count());
    (void)task->finished();
    (void)task->transferring();
  }
  return 0;
}
