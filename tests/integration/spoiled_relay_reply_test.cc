#include <gtest/gtest.h>

#include <future>

#include "client/client.h"
#include "server_fixture.h"

namespace ttfs::testing {
namespace {

using client::ReplyFault;
using client::TransferMode;

constexpr uint32_t kSender = 3001;
constexpr uint32_t kReceiver = 3002;

class SpoiledRelayReply : public ServerFixture, public ::testing::WithParamInterface<ReplyFault> {};

// An online sender that answers one pull wrongly, with a window of pulls in
// flight so that a reply labelled with another pull's offset has a pull to
// match: the relay refuses it (the sender is closed, the receiver told
// CANCEL), and the receiver is handed no byte that is not the file's, at no
// place that is not its own.
TEST_P(SpoiledRelayReply, IsRefusedAndTheReceiverGetsNothingWrong) {
  const uint64_t size = 16 * 32768 + 3;
  const std::string task = create_task(kSender, kReceiver, size, TransferMode::kOnline);
  client::ServeOptions spoiled;
  spoiled.fault = GetParam();
  spoiled.fault_at_segment = 2;
  client::OnlineSender sender(client_endpoint(), {task, kSender, size},
                              client::PatternSource(21).reader(), spoiled);
  client::PatternVerifier verifier(21, size);
  client::PullOptions pull;
  pull.window = 8;
  client::OnlineReceiver receiver(client_endpoint(), {task, kReceiver, size}, verifier.writer(),
                                  pull);
  ASSERT_TRUE(sender.connect().ok());
  ASSERT_TRUE(receiver.connect().ok());
  auto sent = std::async(std::launch::async, [&] { return sender.run(); });
  const auto received = receiver.run();
  const auto sender_result = sent.get();

  EXPECT_EQ(verifier.first_mismatch(), -1) << "the receiver was handed bytes of another offset";
  EXPECT_EQ(verifier.duplicate_or_misaligned(), 0u);
  if (GetParam() == ReplyFault::kWrongSeq) {
    // The relay stamps each reply with its own pull's seq_num, matched by
    // offset; a sender's seq_num with the right offset and bytes changes
    // nothing the receiver sees, so the transfer may complete.
    EXPECT_TRUE(received.ok() || !sender_result.ok());
    return;
  }
  EXPECT_FALSE(sender_result.ok()) << "the spoiled reply was not refused";
  EXPECT_FALSE(received.ok());
  EXPECT_FALSE(verifier.complete_and_correct());
}

INSTANTIATE_TEST_SUITE_P(Faults, SpoiledRelayReply,
                         ::testing::Values(ReplyFault::kShort, ReplyFault::kOversize,
                                           ReplyFault::kWrongOffset, ReplyFault::kWrongTask,
                                           ReplyFault::kUnrequested, ReplyFault::kDuplicate,
                                           ReplyFault::kUnaligned, ReplyFault::kWrongSeq,
                                           ReplyFault::kWrongUser, ReplyFault::kErrorResult));

}  // namespace
}  // namespace ttfs::testing
