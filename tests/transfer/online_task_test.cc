#include "transfer/online_task.h"

#include <gtest/gtest.h>

#include <memory>
#include <tuple>

#include "recording_effects.h"
#include "task_events.h"

namespace ttfs::transfer::testing {
namespace {

using namespace std::chrono_literals;
using IM::BaseDefine::CLIENT_FILE_CANCEL;
using IM::BaseDefine::CLIENT_FILE_DONE;
using IM::BaseDefine::CLIENT_FILE_PEER_READY;
using IM::BaseDefine::CLIENT_FILE_REFUSE;
using IM::BaseDefine::CLIENT_OFFLINE_DOWNLOAD;
using IM::BaseDefine::CLIENT_OFFLINE_UPLOAD;
using IM::BaseDefine::CLIENT_REALTIME_RECVER;
using IM::BaseDefine::CLIENT_REALTIME_SENDER;
using IM::BaseDefine::FILE_TYPE_ONLINE;
using Kind = Effect::Kind;
using State = OnlineTask::State;

// Ten full segments and a short one.
constexpr uint64_t kFileSize = 10 * kSeg + 5;

class OnlineTaskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    task = std::make_unique<OnlineTask>(make_info(FILE_TYPE_ONLINE, kFileSize), limits, now);
  }

  Verdict login_sender(ConnHandle c, uint16_t seq = 1) {
    return task->on_login(make_login(c, seq, kFromUser, CLIENT_REALTIME_SENDER), now, fx);
  }
  Verdict login_receiver(ConnHandle c, uint16_t seq = 1) {
    return task->on_login(make_login(c, seq, kToUser, CLIENT_REALTIME_RECVER), now, fx);
  }
  void both_ready() {
    ASSERT_TRUE(login_sender(S).ok());
    ASSERT_TRUE(login_receiver(R).ok());
    ASSERT_EQ(task->state(), State::kTransferring);
    fx.clear();
  }
  Verdict pull(uint16_t seq, uint32_t offset, uint32_t size = kSeg, ConnHandle from = {},
               uint32_t user = kToUser) {
    auto req = make_pull(from.valid() ? from : R, seq, user, offset, size, FILE_TYPE_ONLINE);
    return task->on_pull_request(req, now, fx);
  }
  Verdict respond(uint32_t offset, size_t size, uint16_t seq = 500, ConnHandle from = {},
                  uint32_t user = kFromUser, uint32_t result_code = 0) {
    auto rsp = make_response(from.valid() ? from : S, seq, user, offset, size, result_code);
    return task->on_pull_response(rsp, now, fx);
  }
  Verdict report(ConnHandle from, uint32_t user, FileState state) {
    auto s = make_state(from, user, state, 77);
    return task->on_state(s, now, fx);
  }
  // A refused login: LOGIN_RES failed to it, then it is closed, nothing else.
  void expect_login_refused(ConnHandle c, uint16_t seq) {
    ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
    EXPECT_EQ(fx.log[0].kind, Kind::kLoginRsp);
    EXPECT_EQ(fx.log[0].conn, c);
    EXPECT_EQ(fx.log[0].seq, seq);
    EXPECT_FALSE(fx.log[0].ok);
    EXPECT_EQ(fx.log[1].kind, Kind::kClose);
    EXPECT_EQ(fx.log[1].conn, c);
  }
  // A refused pull: a PULL_DATA_RSP refusal to it, then it is closed.
  void expect_pull_refused(ConnHandle c, uint16_t seq, uint32_t offset) {
    ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
    EXPECT_EQ(fx.log[0].kind, Kind::kPullRefusal);
    EXPECT_EQ(fx.log[0].conn, c);
    EXPECT_EQ(fx.log[0].seq, seq);
    EXPECT_EQ(fx.log[0].offset, offset);
    EXPECT_EQ(fx.log[1].kind, Kind::kClose);
    EXPECT_EQ(fx.log[1].conn, c);
    EXPECT_EQ(fx.count(Kind::kForward), 0u);
  }
  // A refused response: the connection is closed and nothing is relayed.
  void expect_response_refused(ConnHandle c) {
    ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
    EXPECT_EQ(fx.log[0].kind, Kind::kClose);
    EXPECT_EQ(fx.log[0].conn, c);
  }

  TransferLimits limits;
  Clock::time_point now = t0();
  RecordingEffects fx;
  std::unique_ptr<OnlineTask> task;
  const ConnHandle S = conn(1);
  const ConnHandle R = conn(2, 1);
  const ConnHandle X = conn(3);
};

// --- login ---------------------------------------------------------------

TEST_F(OnlineTaskTest, StartsWaitingForBothPeers) {
  EXPECT_EQ(task->state(), State::kWaitingPeers);
  EXPECT_FALSE(task->finished());
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, SenderThenReceiverSendsPeerReadyToTheReceiver) {
  ASSERT_TRUE(login_sender(S, 11).ok());
  EXPECT_EQ(task->state(), State::kWaitingReceiver);
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kLoginRsp);
  EXPECT_EQ(fx.log[0].conn, S);
  EXPECT_EQ(fx.log[0].seq, 11);
  EXPECT_TRUE(fx.log[0].ok);
  fx.clear();

  ASSERT_TRUE(login_receiver(R, 12).ok());
  EXPECT_EQ(task->state(), State::kTransferring);
  ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kLoginRsp);
  EXPECT_EQ(fx.log[0].conn, R);
  EXPECT_EQ(fx.log[0].seq, 12);
  EXPECT_TRUE(fx.log[0].ok);
  EXPECT_EQ(fx.log[1].kind, Kind::kState);
  EXPECT_EQ(fx.log[1].conn, R);
  EXPECT_EQ(fx.log[1].state, CLIENT_FILE_PEER_READY);
  EXPECT_EQ(fx.log[1].user_id, kFromUser);
  EXPECT_EQ(fx.log[1].task_id, task->info().id_text);
  EXPECT_FALSE(task->finished());
}

TEST_F(OnlineTaskTest, ReceiverThenSenderStillSendsPeerReadyToTheReceiver) {
  ASSERT_TRUE(login_receiver(R, 3).ok());
  EXPECT_EQ(task->state(), State::kWaitingSender);
  EXPECT_EQ(fx.count(Kind::kState), 0u);
  fx.clear();

  ASSERT_TRUE(login_sender(S, 4).ok());
  EXPECT_EQ(task->state(), State::kTransferring);
  ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kLoginRsp);
  EXPECT_EQ(fx.log[0].conn, S);
  EXPECT_TRUE(fx.log[0].ok);
  EXPECT_EQ(fx.log[1].kind, Kind::kState);
  EXPECT_EQ(fx.log[1].conn, R);
  EXPECT_EQ(fx.log[1].state, CLIENT_FILE_PEER_READY);
  EXPECT_EQ(fx.log[1].user_id, kFromUser);
  EXPECT_EQ(fx.count(Kind::kState, S), 0u);
}

TEST_F(OnlineTaskTest, WrongUserForTheSenderRoleIsRefused) {
  for (uint32_t user : {kToUser, kStranger, 0u}) {
    fx.clear();
    EXPECT_FALSE(task->on_login(make_login(X, 9, user, CLIENT_REALTIME_SENDER), now, fx).ok());
    expect_login_refused(X, 9);
    EXPECT_EQ(task->state(), State::kWaitingPeers);
  }
}

TEST_F(OnlineTaskTest, WrongUserForTheReceiverRoleIsRefused) {
  for (uint32_t user : {kFromUser, kStranger}) {
    fx.clear();
    EXPECT_FALSE(task->on_login(make_login(X, 8, user, CLIENT_REALTIME_RECVER), now, fx).ok());
    expect_login_refused(X, 8);
    EXPECT_EQ(task->state(), State::kWaitingPeers);
  }
}

TEST_F(OnlineTaskTest, OfflineRolesAreRefused) {
  EXPECT_FALSE(task->on_login(make_login(X, 5, kFromUser, CLIENT_OFFLINE_UPLOAD), now, fx).ok());
  expect_login_refused(X, 5);
  fx.clear();
  EXPECT_FALSE(task->on_login(make_login(X, 6, kToUser, CLIENT_OFFLINE_DOWNLOAD), now, fx).ok());
  expect_login_refused(X, 6);
  EXPECT_EQ(task->state(), State::kWaitingPeers);
}

TEST_F(OnlineTaskTest, ASecondSenderIsRefusedAndTheFirstKept) {
  ASSERT_TRUE(login_sender(S).ok());
  fx.clear();
  EXPECT_FALSE(login_sender(X, 2).ok());
  expect_login_refused(X, 2);
  EXPECT_EQ(task->state(), State::kWaitingReceiver);
  // The first sender still counts: the receiver's arrival completes the pair.
  fx.clear();
  ASSERT_TRUE(login_receiver(R).ok());
  EXPECT_EQ(task->state(), State::kTransferring);
  EXPECT_EQ(fx.count(Kind::kState, R), 1u);
}

TEST_F(OnlineTaskTest, ASecondReceiverIsRefused) {
  both_ready();
  EXPECT_FALSE(login_receiver(X, 2).ok());
  expect_login_refused(X, 2);
  EXPECT_EQ(task->state(), State::kTransferring);
  EXPECT_TRUE(pull(1, 0).ok());
}

TEST_F(OnlineTaskTest, LoginAfterTheTaskEndedIsRefused) {
  both_ready();
  ASSERT_TRUE(report(R, kToUser, CLIENT_FILE_DONE).ok());
  task->on_conn_closed(S, now, fx);
  task->on_conn_closed(R, now, fx);
  fx.clear();
  EXPECT_FALSE(login_sender(X, 3).ok());
  expect_login_refused(X, 3);
  fx.clear();
  EXPECT_FALSE(login_receiver(X, 4).ok());
  expect_login_refused(X, 4);
  EXPECT_TRUE(task->finished());
}

// --- pulls -----------------------------------------------------------------

TEST_F(OnlineTaskTest, PullIsForwardedToTheSenderWithItsOwnSeq) {
  both_ready();
  ASSERT_TRUE(pull(42, kSeg).ok());
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  const Effect& f = fx.log[0];
  EXPECT_EQ(f.kind, Kind::kForward);
  EXPECT_EQ(f.conn, S);
  EXPECT_EQ(f.seq, 42);
  EXPECT_FALSE(f.seq_patched);
  EXPECT_EQ(f.command_id, net::kCidFilePullDataReq);
  IM::File::IMFilePullDataReq body;
  ASSERT_TRUE(body.ParseFromArray(f.data.data() + net::kPduHeaderSize,
                                  static_cast<int>(f.data.size() - net::kPduHeaderSize)));
  EXPECT_EQ(body.offset(), kSeg);
  EXPECT_EQ(task->outstanding_pulls(), 1u);
}

TEST_F(OnlineTaskTest, PullBeforeBothPeersAreReadyIsRefused) {
  ASSERT_TRUE(login_receiver(R).ok());
  fx.clear();
  EXPECT_FALSE(pull(7, 0).ok());
  expect_pull_refused(R, 7, 0);
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, PullFromTheSendersConnectionIsRefused) {
  both_ready();
  EXPECT_FALSE(pull(7, 0, kSeg, S, kToUser).ok());
  expect_pull_refused(S, 7, 0);
  fx.clear();
  EXPECT_FALSE(pull(8, 0, kSeg, S, kFromUser).ok());
  expect_pull_refused(S, 8, 0);
}

TEST_F(OnlineTaskTest, PullFromAStrangerOrForAnotherUserIsRefused) {
  both_ready();
  EXPECT_FALSE(pull(7, 0, kSeg, X).ok());
  expect_pull_refused(X, 7, 0);
  fx.clear();
  EXPECT_FALSE(pull(8, 0, kSeg, R, kFromUser).ok());
  expect_pull_refused(R, 8, 0);
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, PullSizeMustBeWithinBounds) {
  both_ready();
  EXPECT_FALSE(pull(1, 0, 0).ok());
  expect_pull_refused(R, 1, 0);
  fx.clear();
  EXPECT_FALSE(pull(2, 0, limits.max_pull_size + 1).ok());
  expect_pull_refused(R, 2, 0);
  fx.clear();
  EXPECT_TRUE(pull(3, 0, limits.max_pull_size).ok());
  EXPECT_EQ(fx.count(Kind::kForward, S), 1u);
}

TEST_F(OnlineTaskTest, PullOffsetMustBeInsideTheFile) {
  both_ready();
  EXPECT_FALSE(pull(1, kFileSize).ok());
  expect_pull_refused(R, 1, kFileSize);
  fx.clear();
  EXPECT_FALSE(pull(2, UINT32_MAX).ok());
  expect_pull_refused(R, 2, UINT32_MAX);
  fx.clear();
  EXPECT_TRUE(pull(3, kFileSize - 1, 1).ok());
}

TEST_F(OnlineTaskTest, MoreThanTheRelayWindowOutstandingIsRefused) {
  limits.relay_window = 3;
  both_ready();
  for (uint16_t i = 0; i < 3; ++i) ASSERT_TRUE(pull(i, i * kSeg).ok());
  fx.clear();
  EXPECT_FALSE(pull(9, 3 * kSeg).ok());
  expect_pull_refused(R, 9, 3 * kSeg);
  EXPECT_EQ(task->outstanding_pulls(), 3u);
}

TEST_F(OnlineTaskTest, AnAnswerFreesARelayWindowSlot) {
  limits.relay_window = 2;
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  ASSERT_TRUE(pull(2, kSeg).ok());
  ASSERT_TRUE(respond(0, kSeg).ok());
  EXPECT_EQ(task->outstanding_pulls(), 1u);
  EXPECT_TRUE(pull(3, 2 * kSeg).ok());
  EXPECT_EQ(task->outstanding_pulls(), 2u);
}

TEST_F(OnlineTaskTest, ADuplicateOffsetInFlightIsRefused) {
  both_ready();
  ASSERT_TRUE(pull(1, kSeg).ok());
  fx.clear();
  EXPECT_FALSE(pull(2, kSeg, 100).ok());
  expect_pull_refused(R, 2, kSeg);
  EXPECT_EQ(task->outstanding_pulls(), 1u);
}

TEST_F(OnlineTaskTest, AnOffsetMayBePulledAgainOnceAnswered) {
  both_ready();
  ASSERT_TRUE(pull(1, kSeg).ok());
  ASSERT_TRUE(respond(kSeg, kSeg).ok());
  EXPECT_TRUE(pull(2, kSeg).ok());
}

// --- responses ---------------------------------------------------------------

TEST_F(OnlineTaskTest, ResponseIsForwardedToTheReceiverWithItsRequestsSeq) {
  both_ready();
  ASSERT_TRUE(pull(321, 2 * kSeg).ok());
  fx.clear();
  ASSERT_TRUE(respond(2 * kSeg, kSeg, /*seq=*/9).ok());
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  const Effect& f = fx.log[0];
  EXPECT_EQ(f.kind, Kind::kForward);
  EXPECT_EQ(f.conn, R);
  EXPECT_EQ(f.seq, 321);
  EXPECT_EQ(f.original_seq, 9);
  EXPECT_TRUE(f.seq_patched);
  EXPECT_EQ(f.command_id, net::kCidFilePullDataRsp);
  // The PDU goes on untouched otherwise: same bytes, same payload.
  const auto view = net::parse_pull_data_rsp(
      std::span(f.data.data() + net::kPduHeaderSize, f.data.size() - net::kPduHeaderSize));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->offset, 2 * kSeg);
  ASSERT_EQ(view->file_data.size(), kSeg);
  EXPECT_EQ(view->file_data[0], pattern_at(2 * kSeg));
  EXPECT_EQ(view->file_data[kSeg - 1], pattern_at(3 * kSeg - 1));
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, ResponsesAnsweredOutOfOrderCarryTheSeqOfTheirOwnRequest) {
  both_ready();
  ASSERT_TRUE(pull(10, 0).ok());
  ASSERT_TRUE(pull(11, kSeg).ok());
  ASSERT_TRUE(pull(12, 2 * kSeg).ok());
  ASSERT_TRUE(pull(13, 10 * kSeg, kSeg).ok());  // the short last segment
  fx.clear();
  // The sender stamps every answer with one seq, as old clients do.
  ASSERT_TRUE(respond(2 * kSeg, kSeg, 700).ok());
  ASSERT_TRUE(respond(10 * kSeg, 5, 700).ok());
  ASSERT_TRUE(respond(0, kSeg, 700).ok());
  ASSERT_TRUE(respond(kSeg, kSeg, 700).ok());
  const auto fwd = fx.of(Kind::kForward);
  ASSERT_EQ(fwd.size(), 4u);
  const uint16_t expected[] = {12, 13, 10, 11};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(fwd[i].conn, R);
    EXPECT_EQ(fwd[i].seq, expected[i]) << i;
    EXPECT_TRUE(fwd[i].seq_patched);
  }
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, ResponseFromANonSenderIsRefused) {
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  fx.clear();
  EXPECT_FALSE(respond(0, kSeg, 1, R, kFromUser).ok());
  expect_response_refused(R);
  fx.clear();
  EXPECT_FALSE(respond(0, kSeg, 1, X, kFromUser).ok());
  expect_response_refused(X);
  fx.clear();
  EXPECT_FALSE(respond(0, kSeg, 1, S, kToUser).ok());
  expect_response_refused(S);
  EXPECT_EQ(task->outstanding_pulls(), 1u);
}

TEST_F(OnlineTaskTest, ResponseBeforeBothPeersAreReadyIsRefused) {
  ASSERT_TRUE(login_sender(S).ok());
  fx.clear();
  EXPECT_FALSE(respond(0, kSeg).ok());
  expect_response_refused(S);
}

TEST_F(OnlineTaskTest, ResponseForAnOffsetNeverAskedIsRefused) {
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  fx.clear();
  EXPECT_FALSE(respond(kSeg, kSeg).ok());
  expect_response_refused(S);
  EXPECT_EQ(task->outstanding_pulls(), 1u);
}

TEST_F(OnlineTaskTest, ResponseLabelledWithAnotherPullsOffsetIsRefused) {
  both_ready();
  ASSERT_TRUE(pull(10, 0).ok());
  ASSERT_TRUE(pull(11, kSeg).ok());
  fx.clear();
  // The answer to pull 10 (offset 0), labelled with pull 11's offset.
  EXPECT_FALSE(respond(kSeg, kSeg, /*seq=*/10).ok());
  expect_response_refused(S);
  EXPECT_EQ(task->outstanding_pulls(), 2u);
}

TEST_F(OnlineTaskTest, ASeqNumSharedByPullsStillMatchesItsOwn) {
  both_ready();
  ASSERT_TRUE(pull(7, 0).ok());
  ASSERT_TRUE(pull(7, kSeg).ok());
  fx.clear();
  ASSERT_TRUE(respond(kSeg, kSeg, 7).ok());
  ASSERT_TRUE(respond(0, kSeg, 7).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 2u);
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

TEST_F(OnlineTaskTest, ResponseOfTheWrongSizeIsRefused) {
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  for (size_t size : {size_t{0}, size_t{kSeg - 1}, size_t{kSeg + 1}}) {
    fx.clear();
    EXPECT_FALSE(respond(0, size).ok()) << size;
    expect_response_refused(S);
  }
  EXPECT_EQ(task->outstanding_pulls(), 1u);
}

TEST_F(OnlineTaskTest, ShortLastSegmentIsTheRightSize) {
  both_ready();
  // Asked for a whole segment at the tail: only 5 bytes exist.
  ASSERT_TRUE(pull(1, 10 * kSeg, kSeg).ok());
  fx.clear();
  EXPECT_FALSE(respond(10 * kSeg, kSeg).ok());
  expect_response_refused(S);

  SetUp();
  fx.clear();
  both_ready();
  ASSERT_TRUE(pull(1, 10 * kSeg, kSeg).ok());
  EXPECT_TRUE(respond(10 * kSeg, 5).ok());
}

TEST_F(OnlineTaskTest, SmallerPullExpectsExactlyWhatWasAsked) {
  both_ready();
  ASSERT_TRUE(pull(1, 100, 1000).ok());
  fx.clear();
  EXPECT_FALSE(respond(100, kSeg).ok());
  expect_response_refused(S);

  SetUp();
  fx.clear();
  both_ready();
  ASSERT_TRUE(pull(1, 100, 1000).ok());
  EXPECT_TRUE(respond(100, 1000).ok());
}

TEST_F(OnlineTaskTest, SendersFailureIsRelayedWhateverItsSize) {
  both_ready();
  ASSERT_TRUE(pull(5, 0).ok());
  fx.clear();
  EXPECT_TRUE(respond(0, 0, 1, S, kFromUser, /*result_code=*/1).ok());
  ASSERT_EQ(fx.count(Kind::kForward, R), 1u);
  EXPECT_EQ(fx.of(Kind::kForward)[0].seq, 5);
  EXPECT_EQ(task->outstanding_pulls(), 0u);
}

// --- final states ------------------------------------------------------------

class OnlineTaskFinalStateTest : public OnlineTaskTest,
                                 public ::testing::WithParamInterface<std::tuple<FileState, bool>> {
};

TEST_P(OnlineTaskFinalStateTest, IsForwardedToTheOtherPeerAndBothAreClosed) {
  const auto [state, from_sender] = GetParam();
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  fx.clear();
  const ConnHandle from = from_sender ? S : R;
  const ConnHandle other = from_sender ? R : S;
  ASSERT_TRUE(report(from, from_sender ? kFromUser : kToUser, state).ok());
  EXPECT_EQ(task->state(), State::kEnded);
  EXPECT_TRUE(task->finished());

  const auto fwd = fx.of(Kind::kForward);
  ASSERT_EQ(fwd.size(), 1u) << dump(fx.log);
  EXPECT_EQ(fwd[0].conn, other);
  EXPECT_EQ(fwd[0].command_id, net::kCidFileState);
  IM::File::IMFileState body;
  ASSERT_TRUE(body.ParseFromArray(fwd[0].data.data() + net::kPduHeaderSize,
                                  static_cast<int>(fwd[0].data.size() - net::kPduHeaderSize)));
  EXPECT_EQ(body.state(), state);
  EXPECT_EQ(body.user_id(), from_sender ? kFromUser : kToUser);
  EXPECT_EQ(fx.count(Kind::kClose, from), 1u);
  EXPECT_EQ(fx.count(Kind::kClose, other), 1u);
  EXPECT_EQ(fx.count(Kind::kState), 0u);  // relayed, not made up

  // The closes that follow tell nobody anything more.
  fx.clear();
  task->on_conn_closed(from, now, fx);
  task->on_conn_closed(other, now, fx);
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
  EXPECT_TRUE(task->finished());
}

INSTANTIATE_TEST_SUITE_P(AllStatesBothSides, OnlineTaskFinalStateTest,
                         ::testing::Combine(::testing::Values(CLIENT_FILE_CANCEL,
                                                              CLIENT_FILE_REFUSE, CLIENT_FILE_DONE),
                                            ::testing::Bool()));

TEST_F(OnlineTaskTest, FinalStateWithOnlyOnePeerEndsTheTask) {
  ASSERT_TRUE(login_sender(S).ok());
  fx.clear();
  ASSERT_TRUE(report(S, kFromUser, CLIENT_FILE_CANCEL).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 0u);
  EXPECT_TRUE(fx.closed(S));
  EXPECT_TRUE(task->finished());
}

TEST_F(OnlineTaskTest, PeerReadyFromAClientIsRefused) {
  both_ready();
  EXPECT_FALSE(report(R, kToUser, CLIENT_FILE_PEER_READY).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 0u);
  EXPECT_TRUE(fx.closed(R));
  EXPECT_FALSE(fx.closed(S));
  fx.clear();
  EXPECT_FALSE(report(S, kFromUser, CLIENT_FILE_PEER_READY).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 0u);
  EXPECT_FALSE(task->finished());
}

TEST_F(OnlineTaskTest, StateForAnotherUserIsRefused) {
  both_ready();
  EXPECT_FALSE(report(S, kToUser, CLIENT_FILE_DONE).ok());
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  EXPECT_TRUE(fx.closed(S));
  fx.clear();
  EXPECT_FALSE(report(R, kStranger, CLIENT_FILE_CANCEL).ok());
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  EXPECT_TRUE(fx.closed(R));
  EXPECT_FALSE(task->finished());
}

TEST_F(OnlineTaskTest, StateFromAStrangerIsRefused) {
  both_ready();
  EXPECT_FALSE(report(X, kFromUser, CLIENT_FILE_CANCEL).ok());
  ASSERT_EQ(fx.log.size(), 1u) << dump(fx.log);
  EXPECT_TRUE(fx.closed(X));
  EXPECT_EQ(task->state(), State::kTransferring);
}

TEST_F(OnlineTaskTest, PullAfterTheTaskEndedIsRefused) {
  both_ready();
  ASSERT_TRUE(report(S, kFromUser, CLIENT_FILE_DONE).ok());
  fx.clear();
  EXPECT_FALSE(pull(1, 0).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 0u);
  EXPECT_EQ(fx.count(Kind::kPullRefusal, R), 1u);
}

// --- disconnects ---------------------------------------------------------------

TEST_F(OnlineTaskTest, SenderLeavingMidTransferCancelsTheReceiver) {
  both_ready();
  ASSERT_TRUE(pull(1, 0).ok());
  fx.clear();
  task->on_conn_closed(S, now, fx);
  ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kState);
  EXPECT_EQ(fx.log[0].conn, R);
  EXPECT_EQ(fx.log[0].state, CLIENT_FILE_CANCEL);
  EXPECT_EQ(fx.log[0].user_id, kFromUser);
  EXPECT_EQ(fx.log[1].kind, Kind::kClose);
  EXPECT_EQ(fx.log[1].conn, R);
  EXPECT_TRUE(task->finished());
  // A response the sender got out before it left has nowhere to go.
  fx.clear();
  EXPECT_FALSE(respond(0, kSeg).ok());
  EXPECT_EQ(fx.count(Kind::kForward), 0u);
}

TEST_F(OnlineTaskTest, ReceiverLeavingMidTransferCancelsTheSender) {
  both_ready();
  task->on_conn_closed(R, now, fx);
  ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kState);
  EXPECT_EQ(fx.log[0].conn, S);
  EXPECT_EQ(fx.log[0].state, CLIENT_FILE_CANCEL);
  EXPECT_EQ(fx.log[0].user_id, kToUser);
  EXPECT_EQ(fx.log[1].kind, Kind::kClose);
  EXPECT_EQ(fx.log[1].conn, S);
  EXPECT_TRUE(task->finished());
  fx.clear();
  task->on_conn_closed(S, now, fx);
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
}

TEST_F(OnlineTaskTest, DisconnectOfAnUnrelatedHandleIsIgnored) {
  both_ready();
  task->on_conn_closed(X, now, fx);
  task->on_conn_closed(ConnHandle{}, now, fx);
  // Same slot as the sender, another generation: a different connection.
  task->on_conn_closed(ConnHandle{S.thread, S.slot, S.generation + 1}, now, fx);
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
  EXPECT_EQ(task->state(), State::kTransferring);
  EXPECT_TRUE(pull(1, 0).ok());
}

TEST_F(OnlineTaskTest, TheOnlyPeerLeavingBeforeTheOtherCameEndsTheTask) {
  ASSERT_TRUE(login_sender(S).ok());
  fx.clear();
  task->on_conn_closed(S, now, fx);
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
  EXPECT_TRUE(task->finished());
}

// --- timers ---------------------------------------------------------------------

TEST_F(OnlineTaskTest, NobodyComingEndsTheTaskAfterTaskTimeout) {
  now += limits.task_timeout - 1s;
  task->on_tick(now, fx);
  EXPECT_FALSE(task->finished());
  now += 1s;
  task->on_tick(now, fx);
  EXPECT_TRUE(task->finished());
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
}

TEST_F(OnlineTaskTest, OnePeerWaitingLongerThanTaskTimeoutIsCancelled) {
  ASSERT_TRUE(login_sender(S).ok());
  fx.clear();
  now += limits.task_timeout;
  task->on_tick(now, fx);
  EXPECT_TRUE(task->finished());
  ASSERT_EQ(fx.log.size(), 2u) << dump(fx.log);
  EXPECT_EQ(fx.log[0].kind, Kind::kState);
  EXPECT_EQ(fx.log[0].conn, S);
  EXPECT_EQ(fx.log[0].state, CLIENT_FILE_CANCEL);
  EXPECT_EQ(fx.log[0].user_id, kToUser);
  EXPECT_TRUE(fx.closed(S));
}

TEST_F(OnlineTaskTest, WaitingIsCountedFromTheLastLogin) {
  now += limits.task_timeout - 10s;
  ASSERT_TRUE(login_receiver(R).ok());
  now += 20s;
  task->on_tick(now, fx);
  EXPECT_FALSE(task->finished());
}

TEST_F(OnlineTaskTest, TransferWithNoActivityEndsAfterStallTimeout) {
  both_ready();
  // Transferring is held to the stall timeout, not the shorter task timeout.
  now += limits.task_timeout + 1s;
  task->on_tick(now, fx);
  EXPECT_FALSE(task->finished());
  now = t0() + limits.stall_timeout - 1s;
  task->on_tick(now, fx);
  EXPECT_FALSE(task->finished());
  now += 1s;
  task->on_tick(now, fx);
  EXPECT_TRUE(task->finished());
  const auto states = fx.of(Kind::kState);
  ASSERT_EQ(states.size(), 2u) << dump(fx.log);
  for (const Effect& e : states) {
    EXPECT_EQ(e.state, CLIENT_FILE_CANCEL);
    // Each is told that the other side gave up.
    EXPECT_EQ(e.user_id, e.conn == S ? kToUser : kFromUser);
  }
  EXPECT_TRUE(fx.closed(S));
  EXPECT_TRUE(fx.closed(R));
  fx.clear();
  task->on_tick(now + 1h, fx);
  EXPECT_TRUE(fx.log.empty());
}

TEST_F(OnlineTaskTest, ActivityResetsTheStallTimer) {
  both_ready();
  const auto step = limits.stall_timeout - 1s;
  uint16_t seq = 1;
  for (uint32_t i = 0; i < 4; ++i) {
    now += step;
    task->on_tick(now, fx);
    ASSERT_FALSE(task->finished()) << i;
    if (i % 2 == 0) {
      ASSERT_TRUE(pull(seq++, i * kSeg).ok());
    } else {
      ASSERT_TRUE(respond((i - 1) * kSeg, kSeg).ok());
    }
  }
  now += limits.stall_timeout;
  task->on_tick(now, fx);
  EXPECT_TRUE(task->finished());
}

TEST_F(OnlineTaskTest, RefusedEventsAreNoActivity) {
  both_ready();
  now += limits.stall_timeout - 1s;
  EXPECT_FALSE(respond(0, kSeg, 1, X).ok());
  now += 1s;
  task->on_tick(now, fx);
  EXPECT_TRUE(task->finished());
}

TEST_F(OnlineTaskTest, StoreCompletionsAreRefused) {
  both_ready();
  for (auto kind : {StoreDone::Kind::kBegun, StoreDone::Kind::kWritten, StoreDone::Kind::kFinalized,
                    StoreDone::Kind::kAborted}) {
    EXPECT_FALSE(task->on_store_done(store_done(kind, 0, kSeg), now, fx).ok());
  }
  EXPECT_TRUE(fx.log.empty()) << dump(fx.log);
  EXPECT_EQ(task->state(), State::kTransferring);
}

TEST_F(OnlineTaskTest, AWholeTransferRelaysEveryByte) {
  both_ready();
  const uint64_t segments = (kFileSize + kSeg - 1) / kSeg;
  for (uint64_t i = 0; i < segments; ++i) {
    const auto offset = static_cast<uint32_t>(i * kSeg);
    ASSERT_TRUE(pull(static_cast<uint16_t>(100 + i), offset).ok());
    const size_t size = std::min<uint64_t>(kSeg, kFileSize - offset);
    ASSERT_TRUE(respond(offset, size).ok());
  }
  const auto fwd = fx.of(Kind::kForward);
  ASSERT_EQ(fwd.size(), 2 * segments);
  for (uint64_t i = 0; i < segments; ++i) {
    EXPECT_EQ(fwd[2 * i].conn, S);
    EXPECT_EQ(fwd[2 * i + 1].conn, R);
    EXPECT_EQ(fwd[2 * i + 1].seq, 100 + i);
  }
  ASSERT_TRUE(report(R, kToUser, CLIENT_FILE_DONE).ok());
  EXPECT_TRUE(task->finished());
}

// --- what a graceful shutdown waits for -------------------------------------------

TEST_F(OnlineTaskTest, TransfersOnlyWhileBothPeersAreConnected) {
  EXPECT_FALSE(task->transferring());
  ASSERT_TRUE(login_sender(S).ok());
  EXPECT_FALSE(task->transferring()) << "a sender waiting for its receiver moves nothing";
  ASSERT_TRUE(login_receiver(R).ok());
  EXPECT_TRUE(task->transferring());
  task->on_conn_closed(R, now, fx);
  EXPECT_FALSE(task->transferring());
}

}  // namespace
}  // namespace ttfs::transfer::testing
