#include <fcntl.h>
#include <unistd.h>

#include <system_error>

#include "floors.h"
#include "loopback.h"
#include "peer_thread.h"
#include "peers.h"
#include "support.h"

namespace ttfs::floor {
namespace {

// The server's part of a relay is the same both ways but for how a segment
// crosses from the sender's socket to the receiver's.
template <typename ForwardSegment>
FloorResult relay(const FloorOptions& options, ForwardSegment forward_segment) {
  const uint64_t segments = options.segments;
  SocketPair to_receiver = connect_over_loopback();
  SocketPair to_sender = connect_over_loopback();
  PeerThread receiver({to_receiver.peer_end.get()},
                      [&] { pull_segments(to_receiver.peer_end.get(), segments, options.window); });
  PeerThread sender({to_sender.peer_end.get()},
                    [&] { answer_pulls(to_sender.peer_end.get(), segments, 'r'); });

  const ServerClock clock;
  char request[kRequestSize];
  for (uint64_t i = 0; i < segments; ++i) {
    read_exact(to_receiver.server_end.get(), request, sizeof request);
    write_all(to_sender.server_end.get(), request, sizeof request);
    forward_segment(to_sender.server_end.get(), to_receiver.server_end.get());
  }
  FloorResult result = clock.finish(segments);
  result.peer_cpu_seconds = receiver.join() + sender.join();
  return result;
}

}  // namespace

FloorResult relay_copy(const FloorOptions& options) {
  const AlignedBuffer segment = aligned_buffer(kSegmentSize, 0);
  return relay(options, [&](int from, int to) {
    read_exact(from, segment.get(), kSegmentSize);
    write_all(to, segment.get(), kSegmentSize);
  });
}

FloorResult relay_splice(const FloorOptions& options) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0)
    throw std::system_error(errno, std::generic_category(), "pipe");
  const UniqueFd pipe_out(ends[0]);
  const UniqueFd pipe_in(ends[1]);
  // Room for a segment in however many pieces the socket holds it; a pipe
  // of the default size could fill its slots before its bytes.
  ::fcntl(pipe_in.get(), F_SETPIPE_SZ, 1024 * 1024);
  return relay(options, [&](int from, int to) {
    splice_exact(from, pipe_in.get(), kSegmentSize);
    splice_exact(pipe_out.get(), to, kSegmentSize);
  });
}

}  // namespace ttfs::floor
