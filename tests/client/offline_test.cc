#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "client/offline_downloader.h"
#include "client/offline_uploader.h"
#include "client/pattern_verifier.h"
#include "fake_peer.h"

namespace ttfs::client::testing {
namespace {

constexpr uint32_t kFrom = 11;
constexpr uint32_t kTo = 22;
constexpr uint64_t kSeed = 4;
constexpr uint32_t kSize = 70000;  // two whole segments and a 4464-byte tail

bool same_bytes(std::span<const uint8_t> a, std::span<const uint8_t> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

ServeOptions fast_serve() {
  ServeOptions o;
  o.session.timeout = 3s;
  o.session.close_grace = 2s;
  return o;
}

DownloadOptions fast_download() {
  DownloadOptions o;
  o.pull.session.timeout = 3s;
  o.pull.session.close_grace = 2s;
  return o;
}

TEST(OfflineUploaderTest, AnswersEachOutstandingRequestUntilDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    // Three requests outstanding at once, out of order.
    const uint32_t offsets[] = {65536, 0, 32768};
    for (uint16_t i = 0; i < 3; ++i) {
      send_pull_req(conn, 7 + i, kFrom, TransferMode::kOffline, offsets[i],
                    std::min<uint32_t>(kSegmentSize, kSize - offsets[i]));
    }
    for (uint16_t i = 0; i < 3; ++i) {
      auto rsp = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp);
      ASSERT_TRUE(rsp);
      EXPECT_EQ(rsp->header.seq_num, 7 + i);
      const Bytes want = expected_rsp(7 + i, kFrom, offsets[i],
                                      std::min<uint32_t>(kSegmentSize, kSize - offsets[i]), kSeed);
      EXPECT_TRUE(same_bytes(rsp->bytes.span(), want.span())) << "reply " << i;
    }
    send_state(conn, FileState::kDone, kFrom);
    expect_closed(conn);
  });
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                     fast_serve());
  const TransferResult r = up.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.bytes, kSize);
  EXPECT_EQ(r.segments, 3u);
  EXPECT_EQ(r.final_state, FileState::kDone);
  EXPECT_FALSE(r.final_state_sent);
}

TEST(OfflineUploaderTest, LoginRefused) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload, 1));
    expect_closed(conn);
  });
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                     fast_serve());
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kRefused) << r.status.to_string();
}

TEST(OfflineUploaderTest, RefusesARequestPastTheEndOfTheFile) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    send_pull_req(conn, 0, kFrom, TransferMode::kOffline, 65536, kSegmentSize);
    expect_closed(conn);
  });
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                     fast_serve());
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kProtocol);
  EXPECT_NE(r.error().find("outside"), std::string::npos) << r.error();
  EXPECT_EQ(r.segments, 0u);
}

TEST(OfflineUploaderTest, StopsAfterNSegmentsWithCancel) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    send_pull_req(conn, 0, kFrom, TransferMode::kOffline, 0, kSegmentSize);
    send_pull_req(conn, 0, kFrom, TransferMode::kOffline, 32768, kSegmentSize);
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp));
    auto state = expect_state(conn);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state(), IM::BaseDefine::CLIENT_FILE_CANCEL);
    EXPECT_EQ(state->user_id(), kFrom);
    EXPECT_EQ(state->task_id(), kTaskId);
    expect_closed(conn);
  });
  ServeOptions o = fast_serve();
  o.stop_after_segments = 1;
  o.state_on_stop = FileState::kCancel;
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(), o);
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kStopped);
  EXPECT_EQ(r.segments, 1u);
  EXPECT_EQ(r.final_state, FileState::kCancel);
  EXPECT_TRUE(r.final_state_sent);
}

TEST(OfflineUploaderTest, DropsTheConnectionAfterNSegments) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    send_pull_req(conn, 0, kFrom, TransferMode::kOffline, 0, kSegmentSize);
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp));
    expect_closed(conn);
  });
  ServeOptions o = fast_serve();
  o.stop_after_segments = 1;
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(), o);
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kStopped);
  EXPECT_FALSE(r.final_state.has_value());
}

struct FaultCase {
  ReplyFault fault;
  uint32_t offset;  // of the spoiled reply
  size_t data_size;
};

class OfflineUploaderFaultTest : public ::testing::TestWithParam<FaultCase> {};

TEST_P(OfflineUploaderFaultTest, SendsTheSpoiledReplyAndReportsTheServersClose) {
  const FaultCase c = GetParam();
  FakePeer peer([c](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    send_pull_req(conn, 3, kFrom, TransferMode::kOffline, 0, kSegmentSize);
    auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp);
    ASSERT_TRUE(pdu);
    auto rsp = net::parse_pull_data_rsp(pdu->body());
    ASSERT_TRUE(rsp);
    EXPECT_EQ(pdu->header.seq_num, 3);
    EXPECT_EQ(rsp->offset, c.offset);
    EXPECT_EQ(rsp->file_data.size(), c.data_size);
    if (c.fault == ReplyFault::kWrongTask) {
      EXPECT_NE(rsp->task_id, kTaskId);
    } else {
      EXPECT_EQ(rsp->task_id, kTaskId);
    }
    conn.close();  // as a server that refuses the reply does
  });
  ServeOptions o = fast_serve();
  o.fault = c.fault;
  o.fault_at_segment = 0;
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(), o);
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kClosed) << r.status.to_string();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, OfflineUploaderFaultTest,
    ::testing::Values(FaultCase{ReplyFault::kShort, 0, kSegmentSize - 1},
                      FaultCase{ReplyFault::kOversize, 0, kSegmentSize + 1},
                      FaultCase{ReplyFault::kWrongOffset, kSegmentSize, kSegmentSize},
                      FaultCase{ReplyFault::kWrongTask, 0, kSegmentSize},
                      FaultCase{ReplyFault::kUnrequested, kSize, kSegmentSize}));

TEST(OfflineUploaderTest, TimesOutWhenTheServerGoesQuiet) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    expect_closed(conn);
  });
  ServeOptions o = fast_serve();
  o.session.timeout = 100ms;
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(), o);
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kTimeout) << r.status.to_string();
}

TEST(OfflineUploaderTest, SendsHeartbeatsWhileIdleAndIgnoresTheirEcho) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    auto hb = expect_pdu(conn, net::kSidOther, net::kCidHeartbeat);
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb->header.length, 16u);
    ASSERT_TRUE(conn.send(hb->bytes.span(), kScriptTimeout).ok());  // the echo
    send_state(conn, FileState::kDone, kFrom);  // a zero-byte file: DONE at once
    expect_closed(conn);
  });
  ServeOptions o = fast_serve();
  o.session.heartbeat_interval = 20ms;
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, 0}, PatternSource(kSeed).reader(), o);
  const TransferResult r = up.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.segments, 0u);
  EXPECT_EQ(r.final_state, FileState::kDone);
}

TEST(OfflineUploaderTest, ReportsCloseBeforeDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kFrom, FileRole::kOfflineUpload));
    send_pull_req(conn, 0, kFrom, TransferMode::kOffline, 0, kSegmentSize);
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataRsp));
    conn.close();
  });
  OfflineUploader up(peer.endpoint(), {kTaskId, kFrom, kSize}, PatternSource(kSeed).reader(),
                     fast_serve());
  const TransferResult r = up.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kClosed);
  EXPECT_EQ(r.segments, 1u);
  EXPECT_NE(r.error().find("before a final FILE_STATE"), std::string::npos) << r.error();
}

// --- OfflineDownloader ---

TEST(OfflineDownloaderTest, PullsEachSegmentInOrderThenExpectsDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    uint16_t last_seq = 1;  // the login's
    for (uint32_t off = 0; off < kSize; off += kSegmentSize) {
      auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
      ASSERT_TRUE(pdu);
      EXPECT_EQ(pdu->header.seq_num, last_seq + 1);
      last_seq = pdu->header.seq_num;
      auto req = parse_body<IM::File::IMFilePullDataReq>(*pdu);
      EXPECT_EQ(req.task_id(), kTaskId);
      EXPECT_EQ(req.user_id(), kTo);
      EXPECT_EQ(req.trans_mode(), IM::BaseDefine::FILE_TYPE_OFFLINE);
      EXPECT_EQ(req.offset(), off);
      EXPECT_EQ(req.data_size(), std::min<uint32_t>(kSegmentSize, kSize - off));
      send_bytes(conn, expected_rsp(pdu->header.seq_num, kTo, off, req.data_size(), kSeed));
    }
    send_state(conn, FileState::kDone, kFrom);  // the original names the task's sender
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_download());
  const TransferResult r = down.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.bytes, kSize);
  EXPECT_EQ(r.segments, 3u);
  EXPECT_EQ(r.final_state, FileState::kDone);
  EXPECT_TRUE(sink.complete_and_correct());
}

TEST(OfflineDownloaderTest, KeepsAWindowInFlightInShuffledOrder) {
  constexpr uint32_t kBig = 10 * kSegmentSize + 100;
  constexpr size_t kWindow = 4;
  std::vector<uint32_t> order;
  FakePeer peer([&order](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    std::vector<std::pair<uint16_t, IM::File::IMFilePullDataReq>> pending;
    size_t requested = 0;
    const size_t total = 11;
    while (requested < total || !pending.empty()) {
      // The client must fill its window before any reply arrives.
      while (requested < total && pending.size() < kWindow) {
        auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
        ASSERT_TRUE(pdu);
        pending.emplace_back(pdu->header.seq_num, parse_body<IM::File::IMFilePullDataReq>(*pdu));
        order.push_back(pending.back().second.offset());
        ++requested;
      }
      const auto [seq, req] = pending.back();  // answer the newest first
      pending.pop_back();
      send_bytes(conn, expected_rsp(seq, kTo, req.offset(), req.data_size(), kSeed));
    }
    send_state(conn, FileState::kDone, kFrom);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kBig);
  DownloadOptions o = fast_download();
  o.pull.window = kWindow;
  o.pull.shuffle = true;
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kBig}, sink.writer(), o);
  const TransferResult r = down.run();
  peer.join();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.segments, 11u);
  EXPECT_TRUE(sink.complete_and_correct());
  EXPECT_FALSE(std::is_sorted(order.begin(), order.end()));
  EXPECT_EQ(std::set<uint32_t>(order.begin(), order.end()).size(), 11u);
}

TEST(OfflineDownloaderTest, StreamsManyMegabytesThroughAWindow) {
  constexpr uint32_t kBig = 16 * 1024 * 1024 + 12345;
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    for (uint64_t served = 0; served < kBig;) {
      auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
      ASSERT_TRUE(pdu);
      auto req = parse_body<IM::File::IMFilePullDataReq>(*pdu);
      send_bytes(conn,
                 expected_rsp(pdu->header.seq_num, kTo, req.offset(), req.data_size(), kSeed));
      served += req.data_size();
    }
    send_state(conn, FileState::kDone, kFrom);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kBig);
  DownloadOptions o = fast_download();
  o.pull.window = 8;
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kBig}, sink.writer(), o);
  const TransferResult r = down.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_EQ(r.segments, (kBig + kSegmentSize - 1) / kSegmentSize);
  EXPECT_TRUE(sink.complete_and_correct());
}

struct BadReply {
  const char* name;
  uint32_t offset;
  uint32_t size;
  uint32_t result_code;
  ErrorCode expected;
};

class OfflineDownloaderBadReplyTest : public ::testing::TestWithParam<BadReply> {};

TEST_P(OfflineDownloaderBadReplyTest, FailsClearly) {
  const BadReply c = GetParam();
  FakePeer peer([c](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
    ASSERT_TRUE(pdu);
    send_bytes(conn,
               expected_rsp(pdu->header.seq_num, kTo, c.offset, c.size, kSeed, c.result_code));
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_download());
  const TransferResult r = down.run();
  EXPECT_EQ(r.status.code(), c.expected) << r.status.to_string();
  EXPECT_EQ(r.segments, 0u);
  EXPECT_EQ(sink.bytes_written(), 0u);
}

INSTANTIATE_TEST_SUITE_P(
    Replies, OfflineDownloaderBadReplyTest,
    ::testing::Values(BadReply{"Short", 0, kSegmentSize - 1, 0, ErrorCode::kProtocol},
                      BadReply{"Oversize", 0, kSegmentSize + 1, 0, ErrorCode::kProtocol},
                      BadReply{"Unrequested", kSegmentSize, kSegmentSize, 0, ErrorCode::kProtocol},
                      BadReply{"Failed", 0, 0, 1, ErrorCode::kRefused}),
    [](const auto& test_info) { return std::string(test_info.param.name); });

TEST(OfflineDownloaderTest, ReportsAServerThatCloses) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq));
    conn.close();
  });
  PatternVerifier sink(kSeed, kSize);
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_download());
  EXPECT_EQ(down.run().status.code(), ErrorCode::kClosed);
}

TEST(OfflineDownloaderTest, ReportsCancelFromTheServer) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    ASSERT_TRUE(expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq));
    send_state(conn, FileState::kCancel, kFrom);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, kSize);
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, kSize}, sink.writer(), fast_download());
  const TransferResult r = down.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kPeerEnded);
  EXPECT_EQ(r.final_state, FileState::kCancel);
  EXPECT_FALSE(r.final_state_sent);
}

TEST(OfflineDownloaderTest, CanSendItsOwnDoneLikeTheWindowsClient) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    auto pdu = expect_pdu(conn, net::kSidFile, net::kCidFilePullDataReq);
    ASSERT_TRUE(pdu);
    send_bytes(conn, expected_rsp(pdu->header.seq_num, kTo, 0, 1000, kSeed));
    auto state = expect_state(conn);
    ASSERT_TRUE(state);
    EXPECT_EQ(state->state(), IM::BaseDefine::CLIENT_FILE_DONE);
    EXPECT_EQ(state->user_id(), kTo);
    send_state(conn, FileState::kDone, kFrom);
    expect_closed(conn);
  });
  PatternVerifier sink(kSeed, 1000);
  DownloadOptions o = fast_download();
  o.send_done = true;
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, 1000}, sink.writer(), o);
  const TransferResult r = down.run();
  EXPECT_TRUE(r.ok()) << r.status.to_string();
  EXPECT_TRUE(sink.complete_and_correct());
}

TEST(OfflineDownloaderTest, TimesOutWaitingForDone) {
  FakePeer peer([](Connection& conn) {
    ASSERT_TRUE(accept_login(conn, kTo, FileRole::kOfflineDownload));
    expect_closed(conn);
  });
  DownloadOptions o = fast_download();
  o.pull.session.timeout = 100ms;
  PatternVerifier sink(kSeed, 0);
  OfflineDownloader down(peer.endpoint(), {kTaskId, kTo, 0}, sink.writer(), o);
  const TransferResult r = down.run();
  EXPECT_EQ(r.status.code(), ErrorCode::kTimeout);
  EXPECT_NE(r.error().find("waiting for DONE"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace ttfs::client::testing
