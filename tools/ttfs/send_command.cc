#include <filesystem>
#include <optional>
#include <system_error>

#include "ttfs/commands.h"
#include "ttfs/exit_codes.h"
#include "ttfs/failure_text.h"
#include "ttfs/progress.h"
#include "ttfs/ticket.h"

namespace ttfs::tool {

namespace {

constexpr uint64_t kMaxFileSize = uint64_t{1} << 32;  // file_size is a u32 on the wire

// Creates the task as TeamTalk's msg_server would, or says why not.
int create_task(const GlobalOptions& global, Ticket& ticket, Console& console) {
  const std::string where = global.server + ":" + std::to_string(global.msg_port);
  client::MsgServerOptions mo;
  mo.connect_timeout = global.timeout;
  mo.timeout = global.timeout;
  auto msg = client::MsgServerClient::connect(global.msg_endpoint(), mo);
  if (!msg) {
    return fail(console, kExitTransferFailed,
                "cannot reach the msg-server port " + where + ": " + reason(msg.status()));
  }
  client::CreateTaskRequest request;
  request.from_user = ticket.from_user;
  request.to_user = ticket.to_user;
  request.file_name = ticket.file_name;
  request.file_size = static_cast<uint32_t>(ticket.file_size);
  request.mode = ticket.mode;
  auto reply = msg->create_task(request);
  if (!reply) {
    return fail(console, kExitTransferFailed,
                "creating the task on " + where + " failed: " + reason(reply.status()));
  }
  if (!reply->ok()) {
    return fail(console, kExitTransferFailed,
                "the server refused to create the task (result_code " +
                    std::to_string(reply->result_code) +
                    "): too many tasks, or a file over its size limit");
  }
  ticket.task_id = *reply->task_id;
  return kExitOk;
}

int upload(const GlobalOptions& global, const SendOptions& options, const Ticket& ticket,
           const client::FileSource& source, Console& console) {
  ProgressMeter meter(console.err, console.progress, "send", ticket.file_size);
  const client::ReadAt read = source.reader();
  auto counting = [&](uint64_t offset, std::span<uint8_t> dst) {
    if (!read(offset, dst)) return false;
    meter.add(dst.size());
    return true;
  };
  client::ServeOptions so;
  so.session = session_options(global, false);
  client::OfflineUploader uploader(
      global.client_endpoint(), {ticket.task_id, ticket.from_user, ticket.file_size}, counting, so);
  const client::TransferResult r = uploader.run();
  meter.finish();
  if (!r.ok()) {
    if (r.status.code() == client::ErrorCode::kIo && r.status.message().starts_with("reading")) {
      return fail(console, kExitLocalFile,
                  "reading " + options.path + " failed (" + r.status.message() +
                      "): was it changed while sending?");
    }
    std::string what = "upload of task " + ticket.task_id + " failed after " +
                       format_bytes(r.bytes) + ": " + reason(r.status);
    if (r.status.code() == client::ErrorCode::kRefused) {
      what += " (unknown task, or not user " + std::to_string(ticket.from_user) + "'s to send)";
    } else {
      what += "; to continue it, run: ttfs send " + options.path + " --to " +
              std::to_string(ticket.to_user) + " --from " + std::to_string(ticket.from_user) +
              " --task " + ticket.task_id;
    }
    return fail(console, kExitTransferFailed, what);
  }
  console.err << "sent " << meter.summary() << "; stored on the server\n";
  console.out << "the receiver runs:\n  " << recv_command_line(ticket, global) << '\n';
  console.out.flush();
  return kExitOk;
}

int serve_online(const GlobalOptions& global, const Ticket& ticket,
                 const client::FileSource& source, Console& console) {
  console.out << "the receiver runs, while this waits:\n  " << recv_command_line(ticket, global)
              << '\n';
  console.out.flush();
  console.err << "waiting for the receiver (up to " << global.wait.count() / 1000
              << " s; Ctrl-C gives up)...\n";
  console.err.flush();
  // The meter starts with the first request, so that the wait does not
  // count against the rate.
  std::optional<ProgressMeter> meter;
  const client::ReadAt read = source.reader();
  auto counting = [&](uint64_t offset, std::span<uint8_t> dst) {
    if (!meter) meter.emplace(console.err, console.progress, "send", ticket.file_size);
    if (!read(offset, dst)) return false;
    meter->add(dst.size());
    return true;
  };
  client::ServeOptions so;
  so.session = session_options(global, true);
  client::OnlineSender sender(global.client_endpoint(),
                              {ticket.task_id, ticket.from_user, ticket.file_size}, counting, so);
  const client::TransferResult r = sender.run();
  if (meter) meter->finish();
  if (r.ok()) {
    console.err << "sent " << (meter ? meter->summary() : format_bytes(0))
                << "; the receiver confirmed (DONE)\n";
    return kExitOk;
  }
  std::string what;
  if (r.status.code() == client::ErrorCode::kPeerEnded && r.final_state) {
    const char* state = client::to_string(*r.final_state);
    what = r.bytes == 0 ? std::string("the transfer ended with ") + state +
                              " before the receiver pulled anything: the receiver gave up, or the "
                              "server's task timeout ran out"
                        : std::string("the receiver ended the transfer with ") + state + " after " +
                              format_bytes(r.bytes);
  } else if (r.status.code() == client::ErrorCode::kTimeout && r.bytes == 0) {
    what = "no receiver came within " + std::to_string(global.wait.count() / 1000) + " s";
  } else if (r.status.code() == client::ErrorCode::kRefused) {
    what = "login to task " + ticket.task_id + " as user " + std::to_string(ticket.from_user) +
           " refused: " + r.status.message();
  } else {
    what = "online transfer of task " + ticket.task_id + " failed after " + format_bytes(r.bytes) +
           ": " + reason(r.status);
  }
  return fail(console, kExitTransferFailed, what);
}

}  // namespace

int run_send(const GlobalOptions& global, const SendOptions& options, Console& console) {
  std::error_code ec;
  const auto status = std::filesystem::status(options.path, ec);
  if (ec || !std::filesystem::exists(status)) {
    return fail(console, kExitLocalFile,
                "cannot send " + options.path + ": " + (ec ? ec.message() : "no such file"));
  }
  if (!std::filesystem::is_regular_file(status)) {
    return fail(console, kExitLocalFile, "cannot send " + options.path + ": not a regular file");
  }
  auto source = client::FileSource::open(options.path);
  if (!source) {
    return fail(console, kExitLocalFile,
                "cannot send " + options.path + ": " + source.status().message());
  }
  if (source->size() >= kMaxFileSize) {
    return fail(console, kExitLocalFile,
                "cannot send " + options.path + ": it is " + format_bytes(source->size()) +
                    ", and the protocol's file_size is 32-bit, so a file must be under 4 GiB");
  }
  if (options.task_id && options.mode == client::TransferMode::kOnline) {
    return fail(console, kExitUsage,
                "--task continues an offline upload; it cannot go with --online");
  }

  Ticket ticket;
  ticket.file_name = std::filesystem::path(options.path).filename().string();
  ticket.file_size = source->size();
  ticket.from_user = options.from_user;
  ticket.to_user = options.to_user;
  ticket.mode = options.mode;
  if (options.task_id) {
    if (!is_task_id(*options.task_id)) {
      return fail(console, kExitUsage, "'" + *options.task_id + "' is not a task id");
    }
    ticket.task_id = *options.task_id;
  } else if (int rc = create_task(global, ticket, console); rc != kExitOk) {
    return rc;
  }
  console.out << "task " << ticket.task_id << " (" << ticket.file_name << ", " << ticket.file_size
              << " bytes, " << (ticket.mode == client::TransferMode::kOnline ? "online" : "offline")
              << ", user " << ticket.from_user << " -> user " << ticket.to_user << ")\n";
  console.out.flush();
  if (options.on_ticket) options.on_ticket(ticket);

  if (ticket.mode == client::TransferMode::kOnline) {
    return serve_online(global, ticket, *source, console);
  }
  return upload(global, options, ticket, *source, console);
}

}  // namespace ttfs::tool
