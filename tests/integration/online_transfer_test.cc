#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "client/client.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using client::ErrorCode;
using client::FileState;
using client::TransferMode;

constexpr uint32_t kSender = 2001;
constexpr uint32_t kReceiver = 2002;
constexpr auto kWait = std::chrono::seconds(10);

class OnlineTransfer : public ServerFixture {
 protected:
  client::TransferResult relay(uint64_t size, bool receiver_first, uint32_t window) {
    const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
    client::PatternVerifier verifier(size + 1, size);
    client::PullOptions pull;
    pull.window = window;
    client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                                client::PatternSource(size + 1).reader());
    client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer(),
                                    pull);
    // Each peer logs in on its own; the order of the logins is the test's.
    if (receiver_first) {
      EXPECT_TRUE(receiver.connect().ok());
      EXPECT_TRUE(sender.connect().ok());
    } else {
      EXPECT_TRUE(sender.connect().ok());
      EXPECT_TRUE(receiver.connect().ok());
    }
    auto sent = std::async(std::launch::async, [&] { return sender.run(); });
    const auto received = receiver.run();
    const auto sender_result = sent.get();
    EXPECT_TRUE(sender_result.ok()) << sender_result.status.to_string();
    EXPECT_EQ(sender_result.final_state, FileState::kDone);
    EXPECT_TRUE(verifier.complete_and_correct())
        << "first mismatch at " << verifier.first_mismatch();
    return received;
  }
};

TEST_F(OnlineTransfer, RelaysWithTheSenderLoggingInFirst) {
  const auto r = relay(3 * 32768 + 100, false, 1);
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.bytes, 3u * 32768 + 100);
}

TEST_F(OnlineTransfer, RelaysWithTheReceiverLoggingInFirst) {
  const auto r = relay(2 * 1024 * 1024 + 1, true, 1);
  EXPECT_TRUE(r.ok()) << r.status.to_string();
}

TEST_F(OnlineTransfer, RelaysManyPullsInFlightEachWithItsOwnSeqNum) {
  // The receiver matches every reply by seq_num as well as offset.
  const auto r = relay(4 * 1024 * 1024, false, 16);
  EXPECT_TRUE(r.ok()) << r.status.to_string();
}

TEST_F(OnlineTransfer, ReceiverRefusalReachesTheSender) {
  const uint64_t size = 10 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                              client::PatternSource(1).reader());
  client::PatternVerifier verifier(1, size);
  client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer());
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto ready = receiver.wait_state(kWait);
  ASSERT_TRUE(ready.ok()) << ready.status().to_string();
  EXPECT_EQ(ready->state, FileState::kPeerReady);
  EXPECT_EQ(ready->user_id, kSender);

  ASSERT_TRUE(receiver.send_state(FileState::kRefuse).ok());
  auto seen = sender.wait_state(kWait);
  ASSERT_TRUE(seen.ok()) << seen.status().to_string();
  EXPECT_EQ(seen->state, FileState::kRefuse);
  EXPECT_EQ(seen->user_id, kReceiver);
  EXPECT_EQ(seen->task_id, task);
}

TEST_F(OnlineTransfer, SenderCancelMidTransferReachesTheReceiver) {
  const uint64_t size = 64 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::ServeOptions cancel;
  cancel.stop_after_segments = 5;
  cancel.state_on_stop = FileState::kCancel;
  client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                              client::PatternSource(1).reader(), cancel);
  client::PatternVerifier verifier(1, size);
  client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer());
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto sent = std::async(std::launch::async, [&] { return sender.run(); });
  const auto received = receiver.run();
  EXPECT_EQ(sent.get().status.code(), ErrorCode::kStopped);
  EXPECT_EQ(received.status.code(), ErrorCode::kPeerEnded) << received.status.to_string();
  EXPECT_EQ(received.final_state, FileState::kCancel);
  EXPECT_EQ(verifier.first_mismatch(), -1);
}

TEST_F(OnlineTransfer, SenderDisconnectingMidTransferEndsItForTheReceiver) {
  const uint64_t size = 64 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::ServeOptions drop;
  drop.stop_after_segments = 3;  // then the socket is just closed
  client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                              client::PatternSource(1).reader(), drop);
  client::PatternVerifier verifier(1, size);
  client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer());
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto sent = std::async(std::launch::async, [&] { return sender.run(); });
  const auto received = receiver.run();
  sent.get();
  // The server tells the receiver (CANCEL) and closes it; it never hangs.
  EXPECT_FALSE(received.ok());
  EXPECT_TRUE(received.status.code() == ErrorCode::kPeerEnded ||
              received.status.code() == ErrorCode::kClosed)
      << received.status.to_string();
}

TEST_F(OnlineTransfer, ReceiverDisconnectingIsToldToTheSender) {
  const uint64_t size = 64 * 32768;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                              client::PatternSource(1).reader());
  client::PatternVerifier verifier(1, size);
  client::PullOptions drop;
  drop.stop_after_segments = 4;
  client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer(),
                                  drop);
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto sent = std::async(std::launch::async, [&] { return sender.run(); });
  EXPECT_EQ(receiver.run().status.code(), ErrorCode::kStopped);
  const auto sender_result = sent.get();
  EXPECT_EQ(sender_result.status.code(), ErrorCode::kPeerEnded) << sender_result.status.to_string();
  EXPECT_EQ(sender_result.final_state, FileState::kCancel);
}

TEST_F(OnlineTransfer, FinishedTaskCannotBeRejoined) {
  const uint64_t size = 1000;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::PatternVerifier verifier(size + 1, size);
  {
    client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                                client::PatternSource(size + 1).reader());
    client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer());
    ASSERT_TRUE(sender.connect().ok());
    ASSERT_TRUE(receiver.connect().ok());
    auto sent = std::async(std::launch::async, [&] { return sender.run(); });
    ASSERT_TRUE(receiver.run().ok());
    sent.get();
  }
  client::OnlineSender again(client_endpoint(), {task, kSender, size},
                             client::PatternSource(1).reader());
  EXPECT_EQ(again.connect().code(), ErrorCode::kRefused);
}

}  // namespace
}  // namespace ttfs::testing
