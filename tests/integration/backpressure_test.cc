#include <gtest/gtest.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <vector>

#include "IM.File.pb.h"
#include "client/client.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using client::TransferMode;
constexpr auto kWait = std::chrono::seconds(10);

// A receiver that sends pull after pull and reads nothing must not make the
// server read and answer them all: each answer may be a MiB, and one read of
// small requests holds hundreds of them. The server stops reading such a
// connection while it has its quota of requests unanswered or its output is
// backed up, and carries on, losing nothing, once the receiver reads.
TEST_F(ServerFixture, AReceiverThatDoesNotReadCannotMakeTheServerAnswerAheadOfIt) {
  constexpr uint64_t kMiB = 1024 * 1024;
  constexpr uint64_t kSize = 8 * kMiB;
  const std::string task = create_task(1, 2, kSize, TransferMode::kOffline);
  client::OfflineUploader up(client_endpoint(), {task, 1, kSize},
                             client::PatternSource(4).reader());
  ASSERT_TRUE(up.run().ok());

  auto conn = client::Connection::connect("127.0.0.1", client_endpoint().port, kWait);
  ASSERT_TRUE(conn.ok());
  IM::File::IMFileLoginReq login;
  login.set_user_id(2);
  login.set_task_id(task);
  login.set_file_role(IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD);
  ASSERT_TRUE(conn->send_pdu(net::kSidFile, net::kCidFileLoginReq, 1, login, kWait).ok());
  ASSERT_TRUE(conn->receive(kWait).ok());

  // 1 MiB pulls over the first half only, so the download never completes.
  std::vector<uint8_t> requests;
  constexpr int kRequests = 600;
  for (int i = 0; i < kRequests; ++i) {
    IM::File::IMFilePullDataReq req;
    req.set_task_id(task);
    req.set_user_id(2);
    req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
    req.set_offset(static_cast<uint32_t>((i % 4) * kMiB));
    req.set_data_size(static_cast<uint32_t>(kMiB));
    const Bytes pdu =
        net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, static_cast<uint16_t>(i + 2), req);
    requests.insert(requests.end(), pdu.data(), pdu.data() + pdu.size());
  }
  // All of them, without reading anything back (they fit in socket buffers).
  size_t sent = 0;
  const auto deadline = std::chrono::steady_clock::now() + kWait;
  while (sent < requests.size() && std::chrono::steady_clock::now() < deadline) {
    const ssize_t n =
        ::send(conn->fd(), requests.data() + sent, requests.size() - sent, MSG_DONTWAIT);
    if (n > 0) sent += static_cast<size_t>(n);
    if (n < 0 && errno != EAGAIN && errno != EINTR) break;
    if (n <= 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_EQ(sent, requests.size());

  // Let the server do all it is going to do: until its count stops moving.
  uint64_t served = 0;
  for (int still = 0; still < 5;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const uint64_t now = server_->stats().segments_served;
    still = now == served ? still + 1 : 0;
    served = now;
  }
  // Its quota (64) plus what its output (4 MiB) and the kernel's socket
  // buffers hold; without the bound it answers all 600, 600 MiB queued.
  EXPECT_LT(served, 200u) << "of " << kRequests;
  EXPECT_GT(served, 0u);

  // Reading resumes it, and every pull is answered, in order.
  for (int i = 0; i < kRequests; ++i) {
    auto rsp = conn->receive(kWait);
    ASSERT_TRUE(rsp.ok()) << "answer " << i << ": " << rsp.status().to_string();
    ASSERT_EQ(rsp->header.command_id, net::kCidFilePullDataRsp);
    ASSERT_EQ(rsp->header.seq_num, i + 2);
    const auto view = net::parse_pull_data_rsp(rsp->body());
    ASSERT_TRUE(view.has_value());
    EXPECT_EQ(view->result_code, 0u);
    EXPECT_EQ(view->offset, (i % 4) * kMiB);
    ASSERT_EQ(view->file_data.size(), kMiB) << "answer " << i;
  }
}

}  // namespace
}  // namespace ttfs::testing
