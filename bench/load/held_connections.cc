#include "held_connections.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "net/pdu.h"
#include "protocol_constants.h"
#include "task_creator.h"
#include "wire.h"

namespace ttfs::load {

namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kMsgHeartbeatEvery = std::chrono::seconds(5);
constexpr auto kClientHeartbeatEvery = std::chrono::seconds(30);
constexpr auto kReplyWait = std::chrono::seconds(30);

std::string failed(const char* what, uint64_t i) {
  return std::string(what) + " (held connection " + std::to_string(i) +
         "): " + std::strerror(errno);
}

int connect_from(uint32_t source_be, uint32_t server_be, uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  // The port is picked at connect(), per destination, not at bind(): so
  // each source address offers its whole ephemeral range to each port.
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = source_be;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  addr.sin_addr.s_addr = server_be;
  addr.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    const int saved = errno;
    ::close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

// One whole PDU from a blocking socket with a receive timeout; false when it
// does not come.
bool receive_pdu(int fd, net::PduHeader& header, std::vector<uint8_t>& body) {
  uint8_t head[net::kPduHeaderSize];
  if (::recv(fd, head, sizeof head, MSG_WAITALL) != static_cast<ssize_t>(sizeof head)) return false;
  const net::FrameResult frame = net::next_frame({head, sizeof head}, 64 * 1024);
  if (frame.status != net::FrameStatus::kNeedMore && frame.status != net::FrameStatus::kFrame)
    return false;
  header = frame.header;
  body.resize(header.length - net::kPduHeaderSize);
  return body.empty() ||
         ::recv(fd, body.data(), body.size(), MSG_WAITALL) == static_cast<ssize_t>(body.size());
}

}  // namespace

HeldConnections::~HeldConnections() {
  stop();
  for (const Held& held : fds_) {
    if (held.fd >= 0) ::close(held.fd);
  }
}

bool HeldConnections::open(uint32_t server_ip_be, uint16_t client_port, uint16_t msg_port,
                           const HoldPlan& plan, std::string& error) {
  fds_.reserve(plan.count);
  std::vector<size_t> to_log_in;
  uint64_t client_side = 0;
  for (uint64_t i = 0; i < plan.count; ++i) {
    const bool msg = i % plan.msg_port_every == 0;
    const uint32_t source =
        htonl((127u << 24) + 2 + static_cast<uint32_t>(i % plan.source_addresses));
    const int fd = connect_from(source, server_ip_be, msg ? msg_port : client_port);
    if (fd < 0) {
      error = failed("connect", i);
      return false;
    }
    const timeval timeout{static_cast<time_t>(kReplyWait.count()), 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    fds_.push_back({fd, msg});
    if (msg) {
      ++on_msg_port_;
    } else if (client_side++ % plan.login_every == 0) {
      to_log_in.push_back(fds_.size() - 1);
    }
  }
  if (!login_senders(server_ip_be, msg_port, to_log_in, error)) return false;
  for (const Held& held : fds_) ::fcntl(held.fd, F_SETFL, ::fcntl(held.fd, F_GETFL) | O_NONBLOCK);
  return true;
}

bool HeldConnections::login_senders(uint32_t server_ip_be, uint16_t msg_port,
                                    const std::vector<size_t>& which, std::string& error) {
  // Their tasks first, all requests in flight on one msg-server connection.
  TaskCreator creator;
  if (!creator.connect(server_ip_be, msg_port, error)) return false;
  for (size_t k = 0; k < which.size(); ++k) {
    const auto user = static_cast<uint32_t>(1000000 + k);
    if (!creator.request(k, user, user + 1, "held.bin", 1024 * 1024, kTransOnline)) {
      error = "too many task requests in flight";
      return false;
    }
  }
  std::vector<std::string> tasks(which.size());
  std::vector<TaskCreator::Reply> replies;
  size_t answered = 0;
  const auto deadline = Clock::now() + kReplyWait;
  while (answered < which.size()) {
    if (Clock::now() > deadline) {
      error = "the server did not create the held connections' tasks in time";
      return false;
    }
    pollfd p{creator.fd(), POLLIN, 0};
    ::poll(&p, 1, 10);
    replies.clear();
    if (!creator.on_ready(replies)) {
      error = "the msg-server connection failed while creating tasks";
      return false;
    }
    for (auto& reply : replies) {
      if (!reply.ok) {
        error = "the server refused a held connection's task";
        return false;
      }
      tasks[reply.cookie] = std::move(reply.task_id);
      ++answered;
    }
  }
  // Then every login at once, and every answer.
  for (size_t k = 0; k < which.size(); ++k) {
    uint8_t pdu[wire::kMaxSmallPdu];
    const size_t n =
        wire::login_req(pdu, 1, static_cast<uint32_t>(1000000 + k), tasks[k], kRoleRealtimeSender);
    if (::send(fds_[which[k]].fd, pdu, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) {
      error = failed("send LOGIN_REQ", which[k]);
      return false;
    }
  }
  net::PduHeader header;
  std::vector<uint8_t> body;
  for (size_t k = 0; k < which.size(); ++k) {
    wire::Fields fields;
    if (!receive_pdu(fds_[which[k]].fd, header, body) ||
        header.command_id != net::kCidFileLoginRsp || !wire::read_fields(body, fields) ||
        !fields.has(1) || fields.u32(1) != 0) {
      error = "LOGIN_REQ of held connection " + std::to_string(which[k]) + " was not accepted";
      return false;
    }
    ++logged_in_;
  }
  return true;
}

void HeldConnections::start() {
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void HeldConnections::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void HeldConnections::run() {
  const int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  for (size_t i = 0; i < fds_.size(); ++i) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = i;
    ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fds_[i].fd, &ev);
  }
  // Heartbeats spread evenly over their period, as independent peers' are.
  const auto start = Clock::now();
  std::vector<Clock::time_point> due(fds_.size());
  for (size_t i = 0; i < fds_.size(); ++i) {
    const auto period = fds_[i].msg_port ? kMsgHeartbeatEvery : kClientHeartbeatEvery;
    due[i] = start + period * static_cast<int64_t>(i % 100) / 100;
  }
  epoll_event events[256];
  uint8_t scratch[4096];
  auto next_tick = start;
  while (!stopping_) {
    const int n = ::epoll_wait(epoll_fd, events, 256, 100);
    for (int e = 0; e < n; ++e) {
      Held& held = fds_[events[e].data.u64];
      for (;;) {
        const ssize_t got = ::recv(held.fd, scratch, sizeof scratch, 0);
        if (got > 0) continue;  // heartbeat echoes
        if (got < 0 && (errno == EAGAIN || errno == EINTR)) break;
        lost_.fetch_add(1);
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, held.fd, nullptr);
        ::close(held.fd);
        held.fd = -1;
        break;
      }
    }
    const auto now = Clock::now();
    if (now < next_tick) continue;
    next_tick = now + std::chrono::milliseconds(100);
    uint8_t beat[net::kPduHeaderSize];
    const size_t len = wire::heartbeat(beat, 0);
    for (size_t i = 0; i < fds_.size(); ++i) {
      if (fds_[i].fd < 0 || now < due[i]) continue;
      due[i] += fds_[i].msg_port ? kMsgHeartbeatEvery : kClientHeartbeatEvery;
      if (::send(fds_[i].fd, beat, len, MSG_DONTWAIT | MSG_NOSIGNAL) == static_cast<ssize_t>(len))
        heartbeats_sent_.fetch_add(1);
    }
  }
  ::close(epoll_fd);
}

}  // namespace ttfs::load
