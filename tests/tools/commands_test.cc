#include "ttfs/commands.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <random>
#include <sstream>
#include <thread>

#include "integration/server_fixture.h"
#include "ttfs/cli.h"
#include "ttfs/exit_codes.h"

namespace ttfs::tool {
namespace {

namespace fs = std::filesystem;
using client::kSegmentSize;

// A console whose output the test reads back.
struct Captured {
  std::ostringstream out;
  std::ostringstream err;
  Console console{out, err, ProgressMode::kLines};
};

std::vector<char> read_all(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// A loopback port with nothing listening on it.
uint16_t closed_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

class ToolCommands : public testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    work_ = fs::temp_directory_path() /
            ("ttfs-tool-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(work_);
    fs::create_directories(work_);
    global_.client_port = server_->client_port();
    global_.msg_port = server_->msg_server_port();
    global_.timeout = std::chrono::seconds(5);
    global_.wait = std::chrono::seconds(5);
  }
  void TearDown() override {
    fs::remove_all(work_);
    ServerFixture::TearDown();
  }

  fs::path make_file(const std::string& name, size_t size) {
    std::vector<char> bytes(size);
    std::mt19937 rng(static_cast<unsigned>(size));
    for (char& c : bytes) c = static_cast<char>(rng());
    const fs::path path = work_ / name;
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(size));
    return path;
  }

  // Uploads `path` offline and returns its ticket.
  Ticket send_offline(const fs::path& path) {
    Captured c;
    SendOptions options;
    options.path = path.string();
    options.to_user = 2;
    Ticket ticket;
    options.on_ticket = [&](const Ticket& t) { ticket = t; };
    EXPECT_EQ(run_send(global_, options, c.console), kExitOk) << c.err.str();
    return ticket;
  }

  RecvOptions recv_options(const Ticket& ticket, const fs::path& out) {
    RecvOptions options;
    options.task_id = ticket.task_id;
    options.file_size = ticket.file_size;
    options.user = ticket.to_user;
    options.out = out.string();
    return options;
  }

  fs::path work_;
  GlobalOptions global_;
};

TEST_F(ToolCommands, SendOfflineThenRecvIsByteExact) {
  const fs::path src = make_file("report.pdf", 3 * kSegmentSize + 1234);
  Captured sent;
  SendOptions options;
  options.path = src.string();
  options.to_user = 2;
  options.from_user = 7;
  Ticket ticket;
  options.on_ticket = [&](const Ticket& t) { ticket = t; };
  ASSERT_EQ(run_send(global_, options, sent.console), kExitOk) << sent.err.str();
  EXPECT_EQ(ticket.file_name, "report.pdf");
  EXPECT_EQ(ticket.file_size, fs::file_size(src));
  EXPECT_EQ(ticket.from_user, 7u);
  // The printed command is the one the receiver needs.
  const std::string command = "ttfs recv " + ticket.task_id + " --size " +
                              std::to_string(ticket.file_size) + " --user 2 --client-port " +
                              std::to_string(global_.client_port);
  EXPECT_NE(sent.out.str().find(command + "\n"), std::string::npos) << sent.out.str();
  EXPECT_NE(sent.err.str().find("send: 100%"), std::string::npos) << sent.err.str();

  Captured got;
  RecvStats stats;
  const fs::path out = work_ / "copy.pdf";
  ASSERT_EQ(run_recv(global_, recv_options(ticket, out), got.console, &stats), kExitOk)
      << got.err.str();
  EXPECT_EQ(read_all(out), read_all(src));
  EXPECT_EQ(stats.segments_total, 4u);
  EXPECT_EQ(stats.segments_pulled, 4u);
  EXPECT_FALSE(fs::exists(out.string() + ".part"));
  EXPECT_FALSE(fs::exists(out.string() + ".part.progress"));
  EXPECT_NE(got.out.str().find("saved " + out.string()), std::string::npos);

  // Saving over an existing file needs --force.
  Captured again;
  EXPECT_EQ(run_recv(global_, recv_options(ticket, out), again.console), kExitLocalFile);
  EXPECT_NE(again.err.str().find("ttfs: " + out.string() + " already exists"), std::string::npos)
      << again.err.str();
}

TEST_F(ToolCommands, SendOnlineAndRecvConcurrently) {
  const fs::path src = make_file("live.bin", 20 * kSegmentSize + 5);
  std::promise<Ticket> ticket_promise;
  Captured sent;
  SendOptions options;
  options.path = src.string();
  options.to_user = 2;
  options.mode = client::TransferMode::kOnline;
  options.on_ticket = [&](const Ticket& t) { ticket_promise.set_value(t); };
  int send_rc = -1;
  std::thread sender([&] { send_rc = run_send(global_, options, sent.console); });

  const Ticket ticket = ticket_promise.get_future().get();
  EXPECT_EQ(ticket.mode, client::TransferMode::kOnline);
  RecvOptions ro = recv_options(ticket, work_ / "live.copy");
  ro.online = true;
  Captured got;
  RecvStats stats;
  const int recv_rc = run_recv(global_, ro, got.console, &stats);
  sender.join();
  ASSERT_EQ(recv_rc, kExitOk) << got.err.str();
  ASSERT_EQ(send_rc, kExitOk) << sent.err.str();
  EXPECT_EQ(read_all(work_ / "live.copy"), read_all(src));
  EXPECT_EQ(stats.segments_pulled, 21u);
  EXPECT_NE(sent.out.str().find("--online"), std::string::npos);
  EXPECT_NE(sent.err.str().find("waiting for the receiver"), std::string::npos);
  EXPECT_NE(sent.err.str().find("the receiver confirmed (DONE)"), std::string::npos)
      << sent.err.str();
}

TEST_F(ToolCommands, CutDownloadResumesWithOnlyTheMissingSegments) {
  const fs::path src = make_file("big.bin", 40 * kSegmentSize + 77);  // 41 segments
  const Ticket ticket = send_offline(src);
  const fs::path out = work_ / "big.copy";

  RecvOptions first = recv_options(ticket, out);
  first.cut_after_segments = 13;
  Captured cut;
  RecvStats cut_stats;
  EXPECT_EQ(run_recv(global_, first, cut.console, &cut_stats), kExitTransferFailed);
  EXPECT_EQ(cut_stats.segments_pulled, 13u);
  EXPECT_NE(cut.err.str().find("run the same command again to resume"), std::string::npos)
      << cut.err.str();
  EXPECT_FALSE(fs::exists(out));
  EXPECT_TRUE(fs::exists(out.string() + ".part.progress"));

  Captured resumed;
  RecvStats stats;
  ASSERT_EQ(run_recv(global_, recv_options(ticket, out), resumed.console, &stats), kExitOk)
      << resumed.err.str();
  EXPECT_EQ(stats.segments_before, 13u);
  EXPECT_EQ(stats.segments_pulled, 41u - 13u);
  EXPECT_EQ(stats.bytes_pulled, fs::file_size(src) - 13 * kSegmentSize);
  EXPECT_NE(resumed.err.str().find("resuming: 13 of 41 segments"), std::string::npos)
      << resumed.err.str();
  EXPECT_EQ(read_all(out), read_all(src));
  EXPECT_FALSE(fs::exists(out.string() + ".part.progress"));
}

TEST_F(ToolCommands, ResumeSurvivesAServerRestart) {
  const fs::path src = make_file("kept.bin", 10 * kSegmentSize);
  const Ticket ticket = send_offline(src);
  const fs::path out = work_ / "kept.copy";
  RecvOptions first = recv_options(ticket, out);
  first.cut_after_segments = 4;
  Captured cut;
  ASSERT_EQ(run_recv(global_, first, cut.console), kExitTransferFailed);

  restart_server();
  global_.client_port = server_->client_port();
  Captured resumed;
  RecvStats stats;
  ASSERT_EQ(run_recv(global_, recv_options(ticket, out), resumed.console, &stats), kExitOk)
      << resumed.err.str();
  EXPECT_EQ(stats.segments_pulled, 6u);
  EXPECT_EQ(read_all(out), read_all(src));
}

TEST_F(ToolCommands, ServerNotThereFailsWithAClearMessage) {
  global_.msg_port = closed_port();
  global_.client_port = closed_port();
  const fs::path src = make_file("x.bin", 10);

  Captured send;
  SendOptions options;
  options.path = src.string();
  options.to_user = 2;
  EXPECT_EQ(run_send(global_, options, send.console), kExitTransferFailed);
  EXPECT_EQ(send.err.str().rfind("ttfs: cannot reach the msg-server port 127.0.0.1:", 0), 0u)
      << send.err.str();
  EXPECT_NE(send.err.str().find("Connection refused"), std::string::npos) << send.err.str();
  const std::string said = send.err.str();
  EXPECT_EQ(std::count(said.begin(), said.end(), '\n'), 1) << said;

  Captured recv;
  RecvOptions ro;
  ro.task_id = "0b6c4c1e-8d0a-4f6e-9a51-3c2d1e0f9a8b";
  ro.file_size = 10;
  ro.user = 2;
  ro.out = (work_ / "nothing").string();
  EXPECT_EQ(run_recv(global_, ro, recv.console), kExitTransferFailed);
  EXPECT_EQ(recv.err.str().rfind("ttfs: cannot reach the client port", 0), 0u) << recv.err.str();
  EXPECT_FALSE(fs::exists(ro.out + ".part"));  // a failed first try leaves nothing

  Captured info;
  EXPECT_EQ(run_serve_info(global_, info.console), kExitTransferFailed);
  EXPECT_NE(info.err.str().find("Connection refused"), std::string::npos);
}

TEST_F(ToolCommands, ServeInfoPrintsTheAdvertisedAddresses) {
  Captured c;
  ASSERT_EQ(run_serve_info(global_, c.console), kExitOk) << c.err.str();
  EXPECT_EQ(c.out.str(), "127.0.0.1:" + std::to_string(global_.client_port) + "\n");
}

TEST_F(ToolCommands, WrongUserOrTaskIsALoginRefusal) {
  const Ticket ticket = send_offline(make_file("y.bin", 100));
  RecvOptions ro = recv_options(ticket, work_ / "y.copy");
  ro.user = 3;
  Captured c;
  EXPECT_EQ(run_recv(global_, ro, c.console), kExitTransferFailed);
  EXPECT_EQ(c.err.str().rfind("ttfs: the server refused user 3's login", 0), 0u) << c.err.str();
}

TEST_F(ToolCommands, LocalAndUsageErrorsHaveTheirOwnExitCodes) {
  Captured missing;
  SendOptions options;
  options.path = (work_ / "no-such-file").string();
  options.to_user = 2;
  EXPECT_EQ(run_send(global_, options, missing.console), kExitLocalFile);
  EXPECT_EQ(missing.err.str().rfind("ttfs: cannot send ", 0), 0u) << missing.err.str();

  Captured usage;
  const char* argv[] = {"ttfs", "send", "file.txt"};
  EXPECT_EQ(run_cli(3, argv, usage.console, false), kExitUsage);
  EXPECT_EQ(usage.err.str(), "ttfs: --to is required (see ttfs --help)\n");

  Captured bad_id;
  const char* argv2[] = {"ttfs", "recv", "not-a-task", "--size", "1", "--user", "2"};
  EXPECT_EQ(run_cli(7, argv2, bad_id.console, false), kExitUsage);
  EXPECT_EQ(bad_id.err.str().rfind("ttfs: 'not-a-task' is not a task id", 0), 0u);

  // Another download's progress is never overwritten.
  const Ticket ticket = send_offline(make_file("z.bin", 3 * kSegmentSize));
  const fs::path out = work_ / "z.copy";
  RecvOptions first = recv_options(ticket, out);
  first.cut_after_segments = 1;
  Captured cut;
  ASSERT_EQ(run_recv(global_, first, cut.console), kExitTransferFailed);
  RecvOptions other = recv_options(ticket, out);
  other.file_size += 1;
  Captured refused;
  EXPECT_EQ(run_recv(global_, other, refused.console), kExitLocalFile);
  EXPECT_NE(refused.err.str().find("belongs to another download"), std::string::npos)
      << refused.err.str();
}

}  // namespace
}  // namespace ttfs::tool
