#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>

#include "client/client.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;

// The real ttfsd binary, started as an operator would: it must print the
// ports it picked for 0, serve, and exit 0 on SIGTERM or SIGINT.
class Daemon {
 public:
  explicit Daemon(const std::filesystem::path& data_dir) {
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      ::close(out[1]);
      const std::string dir = data_dir.string();
      ::execl(TTFSD_PATH, "ttfsd", "--listen-ip", "127.0.0.1", "--client-port", "0", "--msg-port",
              "0", "--data-dir", dir.c_str(), "--io-threads", "2", "--workers", "2", "--log-level",
              "warn", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* stdout_of_daemon = ::fdopen(out[0], "r");
    char line[256];
    while (std::fgets(line, sizeof line, stdout_of_daemon) != nullptr) {
      unsigned client = 0, msg = 0;
      if (std::sscanf(line, "ttfsd listening: client port %u, msg-server port %u", &client, &msg) ==
          2) {
        client_port_ = static_cast<uint16_t>(client);
        msg_port_ = static_cast<uint16_t>(msg);
        break;
      }
    }
    std::fclose(stdout_of_daemon);
  }

  ~Daemon() {
    if (pid_ > 0 && !exited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Sends `signal` and returns the exit status, or -1 if it did not exit in time.
  int stop(int signal) {
    ::kill(pid_, signal);
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }

  bool started() const { return client_port_ != 0 && msg_port_ != 0; }
  client::Endpoint client_endpoint() const { return {"127.0.0.1", client_port_}; }
  client::Endpoint msg_endpoint() const { return {"127.0.0.1", msg_port_}; }

 private:
  pid_t pid_ = -1;
  bool exited_ = false;
  uint16_t client_port_ = 0;
  uint16_t msg_port_ = 0;
};

std::string create(const Daemon& daemon, uint64_t size) {
  auto msg = client::MsgServerClient::connect(daemon.msg_endpoint());
  if (!msg.ok()) return {};
  auto reply = msg->create_task(
      {7, 8, "daemon.bin", static_cast<uint32_t>(size), TransferMode::kOffline, std::nullopt});
  return reply.ok() && reply->ok() ? *reply->task_id : std::string();
}

bool download_is_exact(const Daemon& daemon, const std::string& task, uint64_t size,
                       uint64_t seed) {
  client::PatternVerifier verifier(seed, size);
  client::OfflineDownloader down(daemon.client_endpoint(), {task, 8, size}, verifier.writer());
  return down.run().ok() && verifier.complete_and_correct();
}

TEST(Daemon, ServesStopsCleanlyOnSignalsAndKeepsFilesAcrossRestarts) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("ttfs-daemon-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const uint64_t size = 1024 * 1024 + 5;
  std::string task;
  std::string empty_task;
  {
    Daemon daemon(dir);
    ASSERT_TRUE(daemon.started());
    task = create(daemon, size);
    ASSERT_FALSE(task.empty());
    client::OfflineUploader up(daemon.client_endpoint(), {task, 7, size},
                               client::PatternSource(77).reader());
    ASSERT_TRUE(up.run().ok());
    empty_task = create(daemon, 0);
    client::OfflineUploader empty(daemon.client_endpoint(), {empty_task, 7, 0},
                                  client::PatternSource(1).reader());
    const auto done = empty.run();
    ASSERT_TRUE(done.ok());
    EXPECT_EQ(done.segments, 0u);
    EXPECT_TRUE(download_is_exact(daemon, task, size, 77));
    EXPECT_EQ(daemon.stop(SIGTERM), 0);
  }
  {
    Daemon daemon(dir);
    ASSERT_TRUE(daemon.started());
    EXPECT_TRUE(download_is_exact(daemon, task, size, 77));
    EXPECT_TRUE(download_is_exact(daemon, empty_task, 0, 1));
    EXPECT_EQ(daemon.stop(SIGINT), 0);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ttfs::testing
