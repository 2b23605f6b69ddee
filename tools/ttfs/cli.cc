#include "ttfs/cli.h"

#include <CLI/CLI.hpp>
#include <cmath>

#include "ttfs/commands.h"
#include "ttfs/exit_codes.h"
#include "ttfs/interrupt.h"

namespace ttfs::tool {

namespace {

std::chrono::milliseconds seconds(double s) {
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(s * 1000.0)));
}

}  // namespace

int run_cli(int argc, const char* const* argv, Console& console, bool watch_signals) {
  CLI::App app{"ttfs: send and receive files through a TeamTalk file server (ttfsd)"};
  app.require_subcommand(1);
  // Global options may also follow the command: `ttfs send F --to 2 --server H`.
  app.fallthrough();

  GlobalOptions global;
  double timeout_s = 10;
  double wait_s = 600;
  bool quiet = false;
  app.add_option("--server", global.server, "server's IPv4 address")->capture_default_str();
  app.add_option("--client-port", global.client_port, "server's client port")
      ->capture_default_str();
  app.add_option("--msg-port", global.msg_port, "server's msg-server port")->capture_default_str();
  app.add_option("--timeout", timeout_s, "seconds to wait for the server")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--wait", wait_s, "seconds an online peer waits for the other")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_flag("-q,--quiet", quiet, "no progress display");

  SendOptions send;
  bool send_online = false;
  bool send_offline = false;
  std::string send_task;
  auto* send_cmd = app.add_subcommand(
      "send", "create a task for FILE and upload it (offline) or serve the receiver (online)");
  send_cmd->add_option("FILE", send.path, "file to send (under 4 GiB)")->required();
  send_cmd->add_option("--to", send.to_user, "receiver's user id")->required();
  send_cmd->add_option("--from", send.from_user, "sender's user id")->capture_default_str();
  auto* online_flag =
      send_cmd->add_flag("--online", send_online, "relay to a receiver connected now");
  send_cmd->add_flag("--offline", send_offline, "store on the server (default)")
      ->excludes(online_flag);
  send_cmd->add_option("--task", send_task, "continue the cut upload of this offline task");

  RecvOptions recv;
  auto* recv_cmd = app.add_subcommand("recv", "download a task's file (resumes a cut download)");
  recv_cmd->add_option("TASK_ID", recv.task_id, "task id printed by ttfs send")->required();
  recv_cmd->add_option("--size", recv.file_size, "file size in bytes, printed by ttfs send")
      ->required();
  recv_cmd->add_option("--user", recv.user, "receiver's user id")->required();
  recv_cmd->add_option("--out", recv.out, "where to save (default: TASK_ID.bin)");
  recv_cmd->add_flag("--online", recv.online, "receive an online transfer from its sender");
  recv_cmd->add_flag("--force", recv.force, "overwrite an existing output file");
  recv_cmd->add_option("--window", recv.window, "requests in flight")->capture_default_str();

  auto* info_cmd =
      app.add_subcommand("serve-info", "print the client-port addresses the server advertises");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e, console.out, console.err);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e, console.out, console.err);
  } catch (const CLI::ParseError& e) {
    return fail(console, kExitUsage, std::string(e.what()) + " (see ttfs --help)");
  }
  global.timeout = seconds(timeout_s);
  global.wait = seconds(wait_s);
  if (quiet) console.progress = ProgressMode::kNone;

  if (*send_cmd) {
    if (send_online) send.mode = client::TransferMode::kOnline;
    if (!send_task.empty()) send.task_id = send_task;
    return run_send(global, send, console);
  }
  if (*recv_cmd) {
    if (watch_signals) {
      watch_interrupts();
      console.interrupted = &interrupt_flag();
    }
    return run_recv(global, recv, console);
  }
  if (*info_cmd) return run_serve_info(global, console);
  return fail(console, kExitUsage, "no command given (see ttfs --help)");
}

}  // namespace ttfs::tool
