#include <gtest/gtest.h>

#include "client/online_receiver.h"
#include "client/online_sender.h"
#include "client/pattern_verifier.h"
#include "fake_peer.h"

namespace ttfs::client::testing {
namespace {

constexpr uint32_t kFrom = 11;
constexpr uint32_t kTo = 22;
constexpr uint64_t kSeed = 9;
constexpr uint32_t kSize = 40000;  // one whole segment and a 7232-byte tail

PullOptions fast_pull() {
  PullOptions o;
  o.session.timeout = 3s;
  o.session.close_grace = 2s;
  return o;
}

ServeOptions fast_serve() {
  ServeOptions o;
  o.session.timeout = 3s;
  o.session.close_grace = 2s;
  return o;
}

TEST(OnlineReceiverTest, WaitsForPeerReadyPullsAndSendsDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    send_bytes(conn, net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, 0));  // ignored
    send_state(conn, FileState::kPeerReady, kFrom);  // the original names the sender
    auto a = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
    auto b = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->header.seq_num, b->header.seq_num);
    for (const Pdu* p : {&*b, &*a}) {  // relayed replies may come in any order
      auto req = parse_body<IM::File::IMFilePullDataReq>(*p);
      EXPECT_EQ(req.user_id(), kTo);
      EXPECT_EQ(req.trans_mode(), IM::BaseDefine::FILE_TYPE_ONLINE);
      send_bytes(conn,
                 expected_rsp(p->header.seq_num, kFrom, req.offset(), req.data_size(), kSeed));
    }
    auto done = expect_pdu(conn, net::kSidFile, net::kCidFileState);
    ASSERT_TRUE(done);
    IM::File::IMFileState want;
    want.set_state(IM::BaseDefine::CLIENT_FILE_DONE);
    want.set_task_id(kTaskId);
    want.set_user_id(kTo);
    const Bytes want_pdu =
        net::encode_pdu(net::kSidFile, net::kCidFileState, done->header.seq_num, want);
    EXPECT_TRUE(std::equal(want_pdu.span().begin(), want_pdu.span().end(),
                           done->bytes.span().begin(), done->bytes.span().end()));
    conn.close();  // the server closes the sender of a state
  });
  PatternVerifier sink(kSeed, kSize);
  PullOptions o = fast_pull();
  o.window = 2;
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), o);
  const TransferResult r = recv.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.segments, 2u);
  EXPECT_EQ(r.bytes, kSize);
  EXPECT_EQ(r.final_state, FileState::kDone);
  EXPECT_TRUE(r.final_state_sent);
  EXPECT_TRUE(sink.complete_and_correct());
}

TEST(OnlineReceiverTest, SeesTheSendersCancelBeforePeerReady) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    send_state(conn, FileState::kCancel, kFrom);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_pull());
  const TransferResult r = recv.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kPeerEnded);
  EXPECT_EQ(r.final_state, FileState::kCancel);
  EXPECT_FALSE(r.final_state_sent);
}

TEST(OnlineReceiverTest, CanWaitForPeerReadyItselfAndRefuse) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    send_state(conn, FileState::kPeerReady, kFrom);
    auto state = expect_state(conn);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state(), IM::BaseDefine::CLIENT_FILE_REFUSE);
    EXPECT_EQ(state->user_id(), kTo);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_pull());
  ASSERT_TRUE(recv.connect().ok());
  auto ready = recv.wait_state(3s);
  ASSERT_TRUE(ready.ok()) << ready.status().to_string();
  EXPECT_EQ(ready->state, FileState::kPeerReady);
  EXPECT_EQ(ready->user_id, kFrom);
  EXPECT_TRUE(recv.send_state(FileState::kRefuse).ok());
  recv.close();
}

TEST(OnlineReceiverTest, MatchesRepliesBySeqNumUnlessToldNotTo) {
  for (bool match : {true, false}) {
    FakePeer peer([](Connection& conn) {
      ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
      send_state(conn, FileState::kPeerReady, kFrom);
      auto a = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
      auto b = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
      ASSERT_TRUE(a && b);
      // Both replies stamped with the latest seq_num, as TeamTalk's server does.
      for (const Pdu* p : {&*a, &*b}) {
        auto req = parse_body<IM::File::IMFilePullDataReq>(*p);
        send_bytes(conn,
                   expected_rsp(b->header.seq_num, kFrom, req.offset(), req.data_size(), kSeed));
      }
      for (;;) {  // DONE, or the client's close after it refused a reply
        auto pdu = conn.receive(kScriptTimeout);
        if (!pdu) break;
      }
    });
    PatternVerifier sink(kSeed, kSize);
    PullOptions o = fast_pull();
    o.window = 2;
    o.match_seq_num = match;
    OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), o);
    const TransferResult r = recv.run();
    if (match) {
      EXPECT_EQ(r.status.code(), ErrorCode::kProtocol) << r.status.to_string();
    } else {
      EXPECT_TRUE(r.ok()) << r.status.to_string();
      EXPECT_TRUE(sink.complete_and_correct());
    }
  }
}

TEST(OnlineReceiverTest, CancelsMidTransferWhenAsked) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    send_state(conn, FileState::kPeerReady, kFrom);
    auto a = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
    ASSERT_TRUE(a);
    send_bytes(conn, expected_rsp(a->header.seq_num, kFrom, 0, kSegmentSize, kSeed));
    auto state = expect_state(conn);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state(), IM::BaseDefine::CLIENT_FILE_CANCEL);
    EXPECT_EQ(state->user_id(), kTo);
    conn.close();
  });
  PatternVerifier sink(kSeed, kSize);
  PullOptions o = fast_pull();
  o.stop_after_segments = 1;
  o.state_on_stop = FileState::kCancel;
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), o);
  const TransferResult r = recv.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kStopped);
  EXPECT_EQ(r.segments, 1u);
  EXPECT_EQ(r.final_state, FileState::kCancel);
  EXPECT_TRUE(r.final_state_sent);
}

TEST(OnlineReceiverTest, ReportsTheRelayClosingMidTransfer) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    send_state(conn, FileState::kPeerReady, kFrom);
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq));
    conn.close();
  });
  PatternVerifier sink(kSeed, kSize);
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_pull());
  EXPECT_EQ(recv.run().status.code(), ErrorCode::kClosed);
}

TEST(OnlineReceiverTest, TimesOutWaitingForPeerReady) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kRealtimeReceiver));
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  PullOptions o = fast_pull();
  o.session.timeout = 100ms;
  OnlineReceiver recv(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), o);
  const TransferResult r = recv.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kTimeout);
  EXPECT_NE(r.error().find("PEER_READY"), std::string::npos) << r.error();
}

// --- OnlineSender ---

TEST(OnlineSenderTest, ServesForwardedRequestsUntilTheReceiversDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kRealtimeSender));
    send_pull_req(conn, 5, kTo, TransferMode::kOnline, 0, kSegmentSize);
    send_pull_req(conn, 6, kTo, TransferMode::kOnline, kSegmentSize, kSize - kSegmentSize);
    for (uint16_t seq : {5, 6}) {
      auto rsp = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp);
      ASSERT_TRUE(rsp);
      const uint32_t off = seq == 5 ? 0 : kSegmentSize;
      const Bytes want =
          expected_rsp(seq, kFrom, off, seq == 5 ? kSegmentSize : kSize - off, kSeed);
      EXPECT_TRUE(std::equal(want.span().begin(), want.span().end(), rsp->bytes.span().begin(),
                             rsp->bytes.span().end()));
    }
    send_state(conn, FileState::kDone, kTo);  // the receiver's, forwarded
    expect_closed(conn);
  });
  OnlineSender send(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                    fast_serve());
  const TransferResult r = send.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.segments, 2u);
  EXPECT_EQ(r.bytes, kSize);
  EXPECT_EQ(r.final_state, FileState::kDone);
  EXPECT_FALSE(r.final_state_sent);
}

TEST(OnlineSenderTest, SeesTheReceiversRefusal) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kRealtimeSender));
    send_state(conn, FileState::kRefuse, kTo);
    expect_closed(conn);
  });
  OnlineSender send(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                    fast_serve());
  const TransferResult r = send.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kPeerEnded);
  EXPECT_EQ(r.final_state, FileState::kRefuse);
}

TEST(OnlineSenderTest, ReportsTheRelayClosingMidTransfer) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kRealtimeSender));
    send_pull_req(conn, 1, kTo, TransferMode::kOnline, 0, kSegmentSize);
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp));
    conn.close();
  });
  OnlineSender send(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                    fast_serve());
  const TransferResult r = send.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kClosed);
  EXPECT_EQ(r.segments, 1u);
}

TEST(OnlineSenderTest, CancelCarriesTheSendersOwnId) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kRealtimeSender));
    auto state = expect_state(conn);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state(), IM::BaseDefine::CLIENT_FILE_CANCEL);
    EXPECT_EQ(state->user_id(), kFrom);
    EXPECT_EQ(state->task_id(), kTaskId);
    expect_closed(conn);
  });
  OnlineSender send(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                    fast_serve());
  ASSERT_TRUE(send.connect().ok());
  EXPECT_TRUE(send.send_state(FileState::kCancel).ok());
  send.close();
}

TEST(OnlineSenderTest, RejectsARequestForAnotherTask) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kRealtimeSender));
    IM::File::IMFilePullDataReq req;
    req.set_task_id("00000000-0000-0000-0000-000000000001");
    req.set_user_id(kTo);
    req.set_trans_mode(IM::BaseDefine::FILE_TYPE_ONLINE);
    req.set_offset(0);
    req.set_data_size(10);
    send_msg(conn, net::kSidFile, net::kCidFilePullDataReq, 1, req);
    expect_closed(conn);
  });
  OnlineSender send(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                    fast_serve());
  const TransferResult r = send.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kProtocol);
  EXPECT_EQ(r.segments, 0u);
}

}  // namespace
}  // namespace ttfs::client::testing
