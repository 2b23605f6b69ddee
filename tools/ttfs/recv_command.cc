#include <cctype>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <system_error>

#include "client/segment_puller.h"
#include "ttfs/commands.h"
#include "ttfs/exit_codes.h"
#include "ttfs/failure_text.h"
#include "ttfs/partial_download.h"
#include "ttfs/progress.h"
#include "ttfs/ticket.h"

namespace ttfs::tool {

namespace {

using Clock = std::chrono::steady_clock;

// How much a Ctrl-C or a crash may cost: the sidecar is brought up to date
// at least this often.
constexpr std::chrono::milliseconds kCheckpointEvery{500};

std::string login_refused(const RecvOptions& options) {
  return "the server refused user " + std::to_string(options.user) + "'s login to task " +
         options.task_id +
         ": unknown task, not this user's to receive, or (offline) not uploaded yet";
}

int transfer_failure(const RecvOptions& options, const client::Status& status, Console& console,
                     uint64_t bytes, bool resumable) {
  if (status.code() == client::ErrorCode::kStopped && console.stop_requested()) {
    return fail(console, kExitInterrupted,
                "interrupted after " + format_bytes(bytes) +
                    (resumable ? "; run the same command again to resume" : ""));
  }
  if (status.code() == client::ErrorCode::kIo && status.message().starts_with("writing")) {
    return fail(console, kExitLocalFile, status.message() + " failed");
  }
  if (status.code() == client::ErrorCode::kRefused && bytes == 0 &&
      status.message().starts_with("login")) {
    return fail(console, kExitTransferFailed, login_refused(options));
  }
  return fail(console, kExitTransferFailed,
              "download of task " + options.task_id + " failed after " + format_bytes(bytes) +
                  ": " + reason(status) +
                  (resumable ? "; run the same command again to resume" : ""));
}

int receive_offline(const GlobalOptions& global, const RecvOptions& options, const std::string& out,
                    Console& console, RecvStats& stats) {
  auto partial = PartialDownload::open(out, options.task_id, options.file_size);
  if (!partial) return fail(console, kExitLocalFile, partial.status().message());
  PartialDownload& d = *partial;
  const std::vector<uint64_t> missing = d.missing_offsets();
  stats.segments_total = d.segment_count();
  stats.segments_before = d.segments_done();
  if (d.segments_done() > 0) {
    console.err << "resuming: " << d.segments_done() << " of " << d.segment_count() << " segments ("
                << format_bytes(d.bytes_done()) << ") already in " << d.part_path() << '\n';
  }

  ProgressMeter meter(console.err, console.progress, "recv", options.file_size, d.bytes_done());
  // A zero-byte file still asks the server, so that a wrong task id fails.
  if (!missing.empty() || options.file_size == 0) {
    client::FileSession session(global.client_endpoint(),
                                {options.task_id, options.user, options.file_size},
                                client::FileRole::kOfflineDownload, session_options(global, false));
    client::Status s = session.open();
    if (!s.ok()) {
      d.discard_if_empty();
      if (s.code() == client::ErrorCode::kRefused) {
        return fail(console, kExitTransferFailed, login_refused(options));
      }
      return fail(console, kExitTransferFailed,
                  "cannot reach the client port " + global.server + ":" +
                      std::to_string(global.client_port) + ": " + reason(s));
    }
    auto last_checkpoint = Clock::now();
    client::Status checkpoint_status;
    const client::WriteAt write = d.writer();
    // Each segment is recorded as it lands, and the record saved now and then.
    const client::WriteAt sink = [&](uint64_t offset, std::span<const uint8_t> data) {
      if (!write(offset, data)) return false;
      d.mark_written(offset);
      meter.add(data.size());
      if (Clock::now() - last_checkpoint >= kCheckpointEvery && checkpoint_status.ok()) {
        checkpoint_status = d.checkpoint();
        last_checkpoint = Clock::now();
      }
      return true;
    };
    client::PullOptions po;
    po.window = options.window;
    po.offsets = missing;
    po.stop_after_segments = options.cut_after_segments;
    po.stop_requested = [&] { return console.stop_requested() || !checkpoint_status.ok(); };
    client::TransferResult r;
    client::SegmentPuller(session, client::TransferMode::kOffline, sink, po).run(r);
    stats.segments_pulled = r.segments;
    stats.bytes_pulled = r.bytes;
    meter.finish();
    // Whatever happened, what arrived is kept for the next run.
    client::Status saved = d.checkpoint();
    if (!checkpoint_status.ok()) saved = checkpoint_status;
    if (!saved.ok()) {
      return fail(console, kExitLocalFile,
                  "saving the download's progress failed: " + saved.message());
    }
    if (!r.ok()) {
      d.discard_if_empty();
      return transfer_failure(options, r.status, console, r.bytes, d.segments_done() > 0);
    }

    if (missing.size() == d.segment_count()) {
      // The server says DONE once this connection has pulled every segment.
      auto state = session.wait_state(global.timeout);
      if (!state || state->state != client::FileState::kDone) {
        console.err << "ttfs: warning: every byte arrived, but the server did not confirm with "
                       "DONE ("
                    << (state ? client::to_string(state->state) : reason(state.status())) << ")\n";
      }
      session.close_gracefully();
    } else {
      // The server counts segments per connection, so after a resume it
      // cannot know we are done: we tell it.
      (void)session.send_state(client::FileState::kDone);
      session.close_gracefully();
    }
  }

  client::Status done = d.complete();
  if (!done.ok()) return fail(console, kExitLocalFile, "finishing " + out + ": " + done.message());
  console.err << "received " << meter.summary();
  if (stats.segments_before > 0) {
    console.err << ", resumed with " << stats.segments_before << " of " << stats.segments_total
                << " segments already here";
  }
  console.err << '\n';
  console.out << "saved " << out << " (" << options.file_size << " bytes)\n";
  console.out.flush();
  return kExitOk;
}

int receive_online(const GlobalOptions& global, const RecvOptions& options, const std::string& out,
                   Console& console, RecvStats& stats) {
  // The sender serves only while it is connected, so an online transfer
  // cannot be resumed: the bytes go to PATH.part and are dropped on failure.
  const std::string part = out + ".part";
  auto sink = client::FileSink::create(part);
  if (!sink) return fail(console, kExitLocalFile, sink.status().message());
  std::optional<ProgressMeter> meter;
  const client::WriteAt write = sink->writer();
  bool write_failed = false;
  auto counting = [&](uint64_t offset, std::span<const uint8_t> src) {
    if (!meter) meter.emplace(console.err, console.progress, "recv", options.file_size);
    if (console.stop_requested() || !write(offset, src)) {
      write_failed = !console.stop_requested();
      return false;
    }
    meter->add(src.size());
    return true;
  };
  client::PullOptions po;
  po.session = session_options(global, true);
  po.window = options.window;
  if (options.cut_after_segments) po.stop_after_segments = options.cut_after_segments;
  console.err << "waiting for the sender...\n";
  client::OnlineReceiver receiver(global.client_endpoint(),
                                  {options.task_id, options.user, options.file_size}, counting, po);
  const client::TransferResult r = receiver.run();
  stats.segments_total = (options.file_size + client::kSegmentSize - 1) / client::kSegmentSize;
  stats.segments_pulled = r.segments;
  stats.bytes_pulled = r.bytes;
  if (meter) meter->finish();
  if (!r.ok()) {
    std::error_code ec;
    std::filesystem::remove(part, ec);
    if (write_failed) return fail(console, kExitLocalFile, "writing " + part + " failed");
    if (console.stop_requested()) return fail(console, kExitInterrupted, "interrupted");
    if (r.status.code() == client::ErrorCode::kPeerEnded && r.final_state) {
      return fail(console, kExitTransferFailed,
                  std::string("the sender or the server ended the transfer with ") +
                      client::to_string(*r.final_state) + " after " + format_bytes(r.bytes));
    }
    if (r.status.code() == client::ErrorCode::kRefused && r.bytes == 0) {
      return fail(console, kExitTransferFailed, login_refused(options));
    }
    return transfer_failure(options, r.status, console, r.bytes, false);
  }
  client::Status s = sink->finish();
  std::error_code ec;
  if (s.ok()) std::filesystem::rename(part, out, ec);
  if (!s.ok() || ec) {
    return fail(console, kExitLocalFile,
                "finishing " + out + ": " + (s.ok() ? ec.message() : s.message()));
  }
  console.err << "received " << (meter ? meter->summary() : format_bytes(0)) << '\n';
  console.out << "saved " << out << " (" << options.file_size << " bytes)\n";
  console.out.flush();
  return kExitOk;
}

}  // namespace

int run_recv(const GlobalOptions& global, const RecvOptions& options_in, Console& console,
             RecvStats* stats_out) {
  RecvOptions options = options_in;
  for (char& c : options.task_id)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!is_task_id(options.task_id)) {
    return fail(console, kExitUsage,
                "'" + options_in.task_id +
                    "' is not a task id (36-character UUID, as printed by "
                    "ttfs send)");
  }
  if (options.file_size > UINT32_MAX) {
    return fail(
        console, kExitUsage,
        "--size " + std::to_string(options.file_size) + " is over the protocol's 32-bit limit");
  }
  if (options.window == 0) return fail(console, kExitUsage, "--window must be at least 1");
  const std::string out = options.out.empty() ? options.task_id + ".bin" : options.out;
  std::error_code ec;
  if (std::filesystem::exists(out, ec) && !options.force) {
    return fail(console, kExitLocalFile,
                out + " already exists; choose another --out, or pass --force to overwrite it");
  }
  RecvStats stats;
  const int rc = options.online ? receive_online(global, options, out, console, stats)
                                : receive_offline(global, options, out, console, stats);
  if (stats_out) *stats_out = stats;
  return rc;
}

}  // namespace ttfs::tool
