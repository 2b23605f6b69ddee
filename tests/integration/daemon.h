#pragma once

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

namespace ttfs::testing {

// The real ttfsd binary, started as an operator would, with its output in a
// log file: it must print the ports it picked for 0, serve, and exit 0 on
// SIGTERM or SIGINT. `extra_args` go after the usual ones (e.g. a shutdown
// grace).
class Daemon {
 public:
  Daemon(const std::filesystem::path& data_dir, const std::filesystem::path& log,
         const char* log_level = "warn", const std::vector<std::string>& extra_args = {})
      : log_(log) {
    std::filesystem::remove(log_);
    // Built before the fork: the child only execs.
    std::vector<std::string> args = {
        "ttfsd",      "--listen-ip", "127.0.0.1",  "--client-port",   "0",
        "--msg-port", "0",           "--data-dir", data_dir.string(), "--io-threads",
        "2",          "--workers",   "2",          "--log-level",     log_level};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      std::FILE* out = std::fopen(log.c_str(), "w");
      if (out == nullptr) ::_exit(126);
      ::dup2(::fileno(out), STDOUT_FILENO);
      ::dup2(::fileno(out), STDERR_FILENO);
      ::execv(TTFSD_PATH, argv.data());
      ::_exit(127);
    }
    // Generous: a sanitizer build starts slowly.
    for (int i = 0; i < 600 && !started(); ++i) {
      unsigned client = 0, msg = 0;
      std::istringstream lines(output());
      for (std::string line; std::getline(lines, line);) {
        if (std::sscanf(line.c_str(), "ttfsd listening: client port %u, msg-server port %u",
                        &client, &msg) == 2) {
          client_port_ = static_cast<uint16_t>(client);
          msg_port_ = static_cast<uint16_t>(msg);
        }
      }
      if (!started()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  ~Daemon() {
    if (pid_ > 0 && !exited_) kill_now();
  }
  Daemon(const Daemon&) = delete;
  Daemon& operator=(const Daemon&) = delete;

  // Sends `signal` and returns the exit status, or -1 if it did not exit in time.
  int stop(int signal) {
    send(signal);
    return wait_exit(std::chrono::seconds(10));
  }

  void send(int signal) { ::kill(pid_, signal); }

  // The exit status (128 + the signal if a signal ended it), or -1 if it has
  // not exited within `limit`.
  int wait_exit(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (std::chrono::steady_clock::now() >= deadline) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  // Waits until the log holds `text`; false if it does not within `limit`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds limit) const {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (output().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  // kill -9: no handler runs, nothing is flushed; the page cache survives.
  void kill_now() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    exited_ = true;
  }

  std::string output() const {
    std::ifstream in(log_);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  }

  bool started() const { return client_port_ != 0 && msg_port_ != 0; }
  pid_t pid() const { return pid_; }
  client::Endpoint client_endpoint() const { return {"127.0.0.1", client_port_}; }
  client::Endpoint msg_endpoint() const { return {"127.0.0.1", msg_port_}; }

 private:
  std::filesystem::path log_;
  pid_t pid_ = -1;
  bool exited_ = false;
  uint16_t client_port_ = 0;
  uint16_t msg_port_ = 0;
};

}  // namespace ttfs::testing
