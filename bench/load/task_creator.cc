#include "task_creator.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "IM.Server.pb.h"
#include "net/pdu.h"
#include "wire.h"

namespace ttfs::load {

namespace {

constexpr uint32_t kMaxReply = 64 * 1024;
constexpr auto kHeartbeatEvery = std::chrono::seconds(5);

}  // namespace

TaskCreator::~TaskCreator() { close(); }

void TaskCreator::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool TaskCreator::connect(uint32_t ip_be, uint16_t port, std::string& error) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = ip_be;
  addr.sin_port = htons(port);
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    error = std::string("connect to the msg-server port: ") + std::strerror(errno);
    close();
    return false;
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd_, F_SETFL, ::fcntl(fd_, F_GETFL) | O_NONBLOCK);
  last_send_ = Clock::now();
  return true;
}

bool TaskCreator::request(uint64_t cookie, uint32_t from, uint32_t to, std::string_view file_name,
                          uint32_t size, uint32_t trans_mode) {
  if (fd_ < 0) return false;
  // 65536 requests in flight on one connection would reuse a seq_num.
  if (pending_.count(next_seq_) != 0) return false;
  IM::Server::IMFileTransferReq req;
  req.set_from_user_id(from);
  req.set_to_user_id(to);
  req.set_file_name(std::string(file_name));
  req.set_file_size(size);
  req.set_trans_mode(static_cast<IM::BaseDefine::TransferFileType>(trans_mode));
  const uint16_t seq = next_seq_++;
  if (next_seq_ == 0) next_seq_ = 1;
  const Bytes pdu = net::encode_pdu(net::kSidOther, net::kCidFileTransferReq, seq, req);
  out_.insert(out_.end(), pdu.data(), pdu.data() + pdu.size());
  pending_.emplace(seq, cookie);
  return true;
}

bool TaskCreator::flush() {
  while (out_sent_ < out_.size()) {
    const ssize_t n = ::send(fd_, out_.data() + out_sent_, out_.size() - out_sent_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return true;
      return false;
    }
    out_sent_ += static_cast<size_t>(n);
    last_send_ = Clock::now();
  }
  out_.clear();
  out_sent_ = 0;
  return true;
}

bool TaskCreator::on_ready(std::vector<Reply>& replies) {
  if (fd_ < 0) return false;
  if (!flush()) {
    close();
    return false;
  }
  uint8_t chunk[16 * 1024];
  for (;;) {
    const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
      close();
      return false;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    in_.insert(in_.end(), chunk, chunk + n);
  }
  size_t start = 0;
  for (;;) {
    const std::span<const uint8_t> avail(in_.data() + start, in_.size() - start);
    const net::FrameResult frame = net::next_frame(avail, kMaxReply);
    if (frame.status == net::FrameStatus::kNeedMore) break;
    if (frame.status != net::FrameStatus::kFrame) {
      close();
      return false;
    }
    start += frame.header.length;
    if (frame.header.command_id != net::kCidFileTransferRsp) continue;  // heartbeat echoes
    const auto it = pending_.find(frame.header.seq_num);
    if (it == pending_.end()) continue;
    Reply reply{it->second, false, {}};
    pending_.erase(it);
    IM::Server::IMFileTransferRsp rsp;
    const auto body = avail.subspan(net::kPduHeaderSize, frame.header.body_length());
    if (rsp.ParseFromArray(body.data(), static_cast<int>(body.size())) && rsp.result_code() == 0 &&
        rsp.has_task_id() && !rsp.task_id().empty() && rsp.task_id().size() <= wire::kMaxTaskId) {
      reply.ok = true;
      reply.task_id = rsp.task_id();
    }
    replies.push_back(std::move(reply));
  }
  in_.erase(in_.begin(), in_.begin() + static_cast<ptrdiff_t>(start));
  if (!flush()) {
    close();
    return false;
  }
  return true;
}

void TaskCreator::heartbeat_if_idle(Clock::time_point now) {
  if (fd_ < 0 || now - last_send_ < kHeartbeatEvery) return;
  uint8_t pdu[net::kPduHeaderSize];
  const size_t n = wire::heartbeat(pdu, 0);
  out_.insert(out_.end(), pdu, pdu + n);
  last_send_ = now;
  if (!flush()) close();
}

std::vector<uint64_t> TaskCreator::take_pending() {
  std::vector<uint64_t> cookies;
  cookies.reserve(pending_.size());
  for (const auto& [seq, cookie] : pending_) cookies.push_back(cookie);
  pending_.clear();
  return cookies;
}

}  // namespace ttfs::load
