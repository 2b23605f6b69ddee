#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "net/pdu.h"
#include "wire.h"

namespace ttfs::load {

// One non-blocking client socket: an input buffer that PDUs are parsed from
// in place, and an output queue of small PDU prefixes, each optionally
// followed by a slice of the pattern buffer, sent with writev so that payload
// bytes are never copied in user space.
class Conn {
 public:
  // The largest PDU accepted from a server: a 1 MiB pull and its fields.
  static constexpr uint32_t kMaxPdu = 2 * 1024 * 1024;

  enum class Io { kOk, kEof, kError, kBadFrame, kStopped };

  Conn() = default;
  ~Conn() { close(); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Starts a non-blocking connect; false (errno set) when it fails at once.
  bool open(uint32_t ip_be, uint16_t port);
  // On the first writability: false (errno set) when the connect failed.
  bool finish_connect();
  // `abortive`: a reset instead of a FIN, so the port is not left in TIME_WAIT.
  void close(bool abortive = false);
  // Closes and forgets all buffered bytes, keeping the buffers for the next
  // connection of the same slab entry.
  void reset(bool abortive);

  int fd() const { return fd_; }
  bool connecting() const { return connecting_; }

  // The next output item: fill head (at most wire::kMaxSmallPdu bytes) and
  // optionally point `data` at bytes that outlive the send.
  struct OutItem {
    uint8_t head[wire::kMaxSmallPdu];
    uint32_t head_len = 0;
    uint32_t data_len = 0;
    const uint8_t* data = nullptr;
  };
  OutItem& push();
  bool has_output() const { return out_head_ < out_.size(); }
  // Writes as much as the socket takes; kOk also when it is full for now.
  Io flush();

  // Reads until the socket is drained and hands each whole PDU to `on_frame`
  // (header, body). on_frame returns false to stop reading this connection.
  template <class OnFrame>
  Io read_frames(OnFrame&& on_frame);
  // Reads and discards whatever arrives (a finished connection waiting for
  // the server's close); kEof once the server has closed.
  Io drain();

 private:
  // Room for at least one more byte, and for the whole of a PDU whose header
  // has arrived, moving the unread bytes to the front or growing as needed.
  bool make_room();
  ssize_t read_some();

  int fd_ = -1;
  bool connecting_ = false;

  std::unique_ptr<uint8_t[]> in_;
  size_t in_cap_ = 0;
  size_t in_start_ = 0;
  size_t in_end_ = 0;

  std::vector<OutItem> out_;
  size_t out_head_ = 0;
  size_t out_sent_ = 0;  // bytes of out_[out_head_] already written
};

template <class OnFrame>
Conn::Io Conn::read_frames(OnFrame&& on_frame) {
  for (;;) {
    if (!make_room()) return Io::kBadFrame;
    const ssize_t n = read_some();
    if (n == 0) return Io::kEof;
    if (n < 0) return errno == EAGAIN ? Io::kOk : Io::kError;
    for (;;) {
      const std::span<const uint8_t> avail(in_.get() + in_start_, in_end_ - in_start_);
      const net::FrameResult frame = net::next_frame(avail, kMaxPdu);
      if (frame.status == net::FrameStatus::kNeedMore) break;
      if (frame.status != net::FrameStatus::kFrame) return Io::kBadFrame;
      const uint32_t length = frame.header.length;
      in_start_ += length;
      if (!on_frame(frame.header, avail.subspan(net::kPduHeaderSize, length - net::kPduHeaderSize)))
        return Io::kStopped;
    }
    if (in_start_ == in_end_) in_start_ = in_end_ = 0;
  }
}

}  // namespace ttfs::load
