#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "IM.File.pb.h"
#include "client/client.h"
#include "daemon.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "proc_memory.h"

// A sanitizer's allocator holds freed blocks in quarantine (ASan: up to
// 256 MiB) and shadows every byte, so RSS is not the server's own there:
// the bound is checked in plain builds only, the throttling in all.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define TTFS_RSS_IS_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define TTFS_RSS_IS_SANITIZED 1
#endif
#endif
#ifdef TTFS_RSS_IS_SANITIZED
constexpr bool kRssIsTheServers = false;
#else
constexpr bool kRssIsTheServers = true;
#endif

namespace ttfs::testing {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
constexpr auto kWait = std::chrono::seconds(10);
constexpr uint64_t kKiB = 1024;
constexpr uint64_t kMiB = 1024 * kKiB;

// The limits the server is started with, written to its configuration file,
// and the memory bound that follows from them.
struct Limits {
  uint64_t output_high_water = 4 * kMiB;
  uint64_t relay_window = 64;
  uint64_t max_pulls_in_flight = 64;
  uint64_t max_pull_size = kMiB;
  uint64_t max_pdu_length = kMiB + kKiB;

  void write(const std::filesystem::path& file) const {
    std::ofstream out(file);
    out << "OutputHighWater=" << output_high_water << "\nRelayWindow=" << relay_window
        << "\nMaxPullsInFlight=" << max_pulls_in_flight << "\nMaxPullSize=" << max_pull_size
        << "\nMaxPduLength=" << max_pdu_length << "\n";
  }

  // What the server may hold for one stalled receiver, in KiB. Its output
  // is read-paused once past the high-water mark, but the answers already
  // asked for still land in it: at most `answers_in_flight` of them, each a
  // block of one pull plus its header and page alignment (4 KiB). Each of the
  // `connections` may also hold an input buffer of one maximal PDU and one
  // read chunk (64 KiB).
  uint64_t held_kib(uint64_t answers_in_flight, uint64_t connections) const {
    const uint64_t answers = answers_in_flight * (max_pull_size + 4 * kKiB);
    const uint64_t inputs = connections * (max_pdu_length + 64 * kKiB);
    return (output_high_water + answers + inputs) / kKiB;
  }
};

// Twice what the limits let the server hold, and 16 MiB, on top of the idle
// server. glibc keeps the blocks freed while data flowed for reuse instead
// of giving them back, and reuses them only for blocks that fit: answers
// are a pull plus a page, input buffers grow by doubling up to MaxPduLength
// and a read chunk, so up to a second live set's worth of blocks of the
// other shape can stay resident. The 16 MiB are the IO threads', workers'
// and disk writer's arenas and stacks as they first grow. A server without
// the bound goes far past it: a stalled receiver's answers pile up for as
// long as its sender is asked, here up to the whole 2 GiB file.
uint64_t bound_kib(uint64_t idle_kib, uint64_t held_kib) {
  return idle_kib + 2 * held_kib + 16 * kMiB / kKiB;
}

std::filesystem::path scratch_dir(const char* name) {
  auto dir = std::filesystem::temp_directory_path() /
             (std::string("ttfs-") + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string create_task(const Daemon& daemon, uint64_t size, client::TransferMode mode) {
  auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
  if (!msg.ok()) return {};
  auto reply =
      msg->create_task({1, 2, "stall.bin", static_cast<uint32_t>(size), mode, std::nullopt});
  return reply.ok() && reply->ok() ? *reply->task_id : std::string();
}

client::Connection login(const Daemon& daemon, const std::string& task, uint32_t user,
                         IM::BaseDefine::ClientFileRole role) {
  auto conn = client::Connection::connect("127.0.0.1", daemon.client_endpoint().port, kWait);
  EXPECT_TRUE(conn.ok());
  if (!conn.ok()) return {};
  IM::File::IMFileLoginReq req;
  req.set_user_id(user);
  req.set_task_id(task);
  req.set_file_role(role);
  EXPECT_TRUE(conn->send_pdu(net::kSidFile, net::kCidFileLoginReq, 1, req, kWait).ok());
  auto rsp = conn->receive(kWait);
  EXPECT_TRUE(rsp.ok());
  IM::File::IMFileLoginRsp body;
  if (rsp.ok()) {
    EXPECT_TRUE(body.ParseFromArray(rsp->body().data(), static_cast<int>(rsp->body().size())));
    EXPECT_EQ(body.result_code(), 0u);
  }
  return std::move(*conn);
}

Bytes pull(const std::string& task, uint32_t user, IM::BaseDefine::TransferFileType mode,
           uint64_t offset, uint64_t size, uint16_t seq) {
  IM::File::IMFilePullDataReq req;
  req.set_task_id(task);
  req.set_user_id(user);
  req.set_trans_mode(mode);
  req.set_offset(static_cast<uint32_t>(offset));
  req.set_data_size(static_cast<uint32_t>(size));
  return net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, seq, req);
}

// An online sender that answers every pull at once, as fast as it can, with
// the pattern's bytes; it counts what it is asked.
class EagerSender {
 public:
  EagerSender(client::Connection conn, std::string task, uint64_t seed)
      : conn_(std::move(conn)), task_(std::move(task)), pattern_(seed) {
    thread_ = std::thread([this] { run(); });
  }
  ~EagerSender() {
    stop_ = true;
    thread_.join();
  }

  uint64_t asked() const { return asked_.load(); }
  bool failed() const { return failed_.load(); }

 private:
  void run() {
    while (!stop_) {
      auto pdu = conn_.receive(milliseconds(50));
      if (!pdu.ok()) {
        if (pdu.status().code() == client::ErrorCode::kTimeout) continue;
        failed_ = true;  // the server closed it: it refused something
        return;
      }
      if (pdu->header.command_id != net::kCidFilePullDataReq) {
        failed_ = true;  // a FILE_STATE: the transfer was ended
        return;
      }
      IM::File::IMFilePullDataReq req;
      const auto body = pdu->body();
      if (!req.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
        failed_ = true;
        return;
      }
      auto rsp =
          net::build_pull_data_rsp(pdu->header.seq_num, 0, task_, 1, req.offset(), req.data_size());
      pattern_.fill(req.offset(), {rsp.pdu.data() + rsp.data_offset, req.data_size()});
      if (!conn_.send(rsp.pdu.span(), kWait).ok()) {
        failed_ = true;
        return;
      }
      asked_.fetch_add(1);
    }
  }

  client::Connection conn_;
  std::string task_;
  client::PatternSource pattern_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> failed_{false};
  std::atomic<uint64_t> asked_{0};
  std::thread thread_;
};

// Samples the server's RSS until `progress` (a count of what the server
// still does for the stalled peer) has not moved for a second, then for
// `hold` more; `step` is called between samples and may feed the server.
struct StallObservation {
  uint64_t peak_kib = 0;
  uint64_t at_settling_kib = 0;
  uint64_t peak_after_settling_kib = 0;
  uint64_t progress_at_settling = 0;
  uint64_t progress_at_end = 0;
  bool settled = false;
};

template <typename Progress, typename Step>
StallObservation observe_stall(pid_t pid, Progress progress, Step step) {
  StallObservation o;
  const auto give_up = Clock::now() + std::chrono::seconds(6);
  uint64_t last = progress();
  auto last_change = Clock::now();
  while (Clock::now() < give_up) {
    step();
    std::this_thread::sleep_for(milliseconds(20));
    o.peak_kib = std::max(o.peak_kib, rss_kib(pid));
    const uint64_t now = progress();
    if (now != last) {
      last = now;
      last_change = Clock::now();
    } else if (Clock::now() - last_change > std::chrono::seconds(1)) {
      o.settled = true;
      break;
    }
  }
  o.at_settling_kib = rss_kib(pid);
  o.progress_at_settling = progress();
  const auto hold_until = Clock::now() + milliseconds(1500);
  while (Clock::now() < hold_until) {
    step();
    std::this_thread::sleep_for(milliseconds(20));
    o.peak_after_settling_kib = std::max(o.peak_after_settling_kib, rss_kib(pid));
  }
  o.peak_kib = std::max(o.peak_kib, o.peak_after_settling_kib);
  o.progress_at_end = progress();
  return o;
}

void report(const char* what, const StallObservation& o, uint64_t idle_kib, uint64_t bound) {
  std::printf("stalled receiver (%s): peak RSS %.1f MiB, idle %.1f MiB, bound %.1f MiB\n", what,
              mib(o.peak_kib), mib(idle_kib), mib(bound));
  std::fflush(stdout);
}

// A receiver of a relay that pulls with a full window and then stops
// reading, its socket left open, while its sender answers everything it is
// asked at once: the server stops reading the receiver's pulls once its
// output is backed up, so the sender stops being asked and the server's
// memory levels off under what the limits allow.
TEST(StalledReceiver, RelayLevelsOffAndTheSenderIsNoLongerAsked) {
  const auto dir = scratch_dir("stall-relay");
  const Limits limits;
  limits.write(dir / "ttfsd.conf");
  Daemon daemon(dir / "data", dir / "ttfsd.log", "warn",
                {"--config", (dir / "ttfsd.conf").string(), "--shutdown-grace", "0"});
  ASSERT_TRUE(daemon.started()) << daemon.output();

  constexpr uint64_t kFileSize = 2048 * kMiB;  // pulls never reach its end
  const uint64_t slots = kFileSize / limits.max_pull_size;
  const std::string task = create_task(daemon, kFileSize, client::TransferMode::kOnline);
  ASSERT_FALSE(task.empty());
  auto sender_conn = login(daemon, task, 1, IM::BaseDefine::CLIENT_REALTIME_SENDER);
  client::Connection receiver = login(daemon, task, 2, IM::BaseDefine::CLIENT_REALTIME_RECVER);
  ASSERT_TRUE(receiver.is_open());
  auto ready = receiver.receive(kWait);  // PEER_READY
  ASSERT_TRUE(ready.ok());
  ASSERT_EQ(ready->header.command_id, net::kCidFileState);
  EagerSender sender(std::move(sender_conn), task, 5);
  std::this_thread::sleep_for(milliseconds(200));
  const uint64_t idle_kib = rss_kib(daemon.pid());

  // First it reads, with the whole window in flight, and checks each byte.
  uint64_t sent = 0;
  const auto send_pull = [&] {
    const Bytes pdu =
        pull(task, 2, IM::BaseDefine::FILE_TYPE_ONLINE, (sent % slots) * limits.max_pull_size,
             limits.max_pull_size, static_cast<uint16_t>(sent));
    ++sent;
    return receiver.send(pdu.span(), kWait).ok();
  };
  for (uint64_t i = 0; i < limits.relay_window; ++i) ASSERT_TRUE(send_pull());
  const client::PatternSource pattern(5);
  const uint64_t read_before_stalling = limits.relay_window;
  for (uint64_t received = 0; received < read_before_stalling; ++received) {
    auto rsp = receiver.receive(kWait);
    ASSERT_TRUE(rsp.ok()) << rsp.status().to_string();
    const auto view = net::parse_pull_data_rsp(rsp->body());
    ASSERT_TRUE(view.has_value());
    ASSERT_EQ(view->offset, (received % slots) * limits.max_pull_size);
    ASSERT_EQ(view->file_data.size(), limits.max_pull_size);
    ASSERT_EQ(pattern.first_mismatch(view->offset, view->file_data), -1);
    ASSERT_TRUE(send_pull());
  }

  // Then it reads no more, and keeps pulling as far as the relay window
  // lets it (half of it, for answers still on their way to the server).
  const auto o = observe_stall(
      daemon.pid(), [&] { return sender.asked(); },
      [&] {
        while (sent < sender.asked() + limits.relay_window / 2) ASSERT_TRUE(send_pull());
      });
  const uint64_t bound =
      bound_kib(idle_kib, limits.held_kib(limits.relay_window, /*connections=*/2));
  report("relay", o, idle_kib, bound);
  EXPECT_TRUE(o.settled) << "the sender was still being asked after 6 s: " << sender.asked();
  EXPECT_EQ(o.progress_at_end, o.progress_at_settling) << "the sender is still being asked";
  EXPECT_FALSE(sender.failed()) << "the server ended the transfer instead of pausing it";
  if (kRssIsTheServers) {
    EXPECT_LE(o.peak_after_settling_kib, o.at_settling_kib + 1024) << "RSS still grows";
    EXPECT_LT(o.peak_kib, bound);
  }
  // It did stall: far more was asked of the sender than the receiver read.
  EXPECT_GT(sender.asked(), read_before_stalling + limits.output_high_water / kMiB);

  EXPECT_EQ(daemon.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

// A downloader that sends pull after pull and reads nothing: the server
// answers at most its quota of pulls beyond what the output holds, then
// reads neither its socket nor the file, and its memory levels off.
TEST(StalledReceiver, DownloadLevelsOffAndTheServerStopsReading) {
  const auto dir = scratch_dir("stall-download");
  const Limits limits;
  limits.write(dir / "ttfsd.conf");
  Daemon daemon(dir / "data", dir / "ttfsd.log", "warn",
                {"--config", (dir / "ttfsd.conf").string(), "--shutdown-grace", "0"});
  ASSERT_TRUE(daemon.started()) << daemon.output();

  constexpr uint64_t kFileSize = 16 * kMiB;
  const uint64_t slots = kFileSize / limits.max_pull_size;
  const std::string task = create_task(daemon, kFileSize, client::TransferMode::kOffline);
  ASSERT_FALSE(task.empty());
  client::OfflineUploader up(daemon.client_endpoint(), {task, 1, kFileSize},
                             client::PatternSource(6).reader());
  ASSERT_TRUE(up.run().ok());
  client::Connection receiver = login(daemon, task, 2, IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD);
  ASSERT_TRUE(receiver.is_open());
  std::this_thread::sleep_for(milliseconds(200));
  const uint64_t idle_kib = rss_kib(daemon.pid());

  // Pulls are pushed as fast as the socket takes them, never read.
  uint64_t pulls = 0;
  Bytes pending;
  size_t pending_sent = 0;
  uint64_t bytes_accepted = 0;
  const auto push = [&] {
    for (;;) {
      if (pending_sent == pending.size()) {
        pending =
            pull(task, 2, IM::BaseDefine::FILE_TYPE_OFFLINE, (pulls % slots) * limits.max_pull_size,
                 limits.max_pull_size, static_cast<uint16_t>(pulls));
        ++pulls;
        pending_sent = 0;
      }
      const ssize_t n = ::send(receiver.fd(), pending.data() + pending_sent,
                               pending.size() - pending_sent, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n <= 0) return;  // full (EAGAIN), or an error the checks below show
      pending_sent += static_cast<size_t>(n);
      bytes_accepted += static_cast<uint64_t>(n);
    }
  };
  const auto o = observe_stall(
      daemon.pid(), [&] { return bytes_read_by(daemon.pid()); }, push);
  const uint64_t bound =
      bound_kib(idle_kib, limits.held_kib(limits.max_pulls_in_flight, /*connections=*/1));
  report("download", o, idle_kib, bound);
  EXPECT_TRUE(o.settled) << "the server was still reading after 6 s";
  EXPECT_EQ(o.progress_at_end, o.progress_at_settling) << "the server still reads";
  if (kRssIsTheServers) {
    EXPECT_LE(o.peak_after_settling_kib, o.at_settling_kib + 1024) << "RSS still grows";
    EXPECT_LT(o.peak_kib, bound);
  }
  // Far more was asked than the server may answer ahead of the receiver.
  EXPECT_GT(pulls, 10 * limits.max_pulls_in_flight);

  // Nothing was lost or refused: the first answers are there, in order.
  for (uint64_t i = 0; i < 8; ++i) {
    auto rsp = receiver.receive(kWait);
    ASSERT_TRUE(rsp.ok()) << rsp.status().to_string();
    ASSERT_EQ(rsp->header.command_id, net::kCidFilePullDataRsp);
    const auto view = net::parse_pull_data_rsp(rsp->body());
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->offset, (i % slots) * limits.max_pull_size);
    EXPECT_EQ(view->file_data.size(), limits.max_pull_size);
  }
  EXPECT_EQ(daemon.stop(SIGTERM), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ttfs::testing
