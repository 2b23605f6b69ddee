#include "net/pdu_reader.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "net/pull_data_codec.h"

namespace ttfs::net {
namespace {

const std::string kTaskId = "0f8fad5b-d9cb-469f-a165-70867728950e";
constexpr uint32_t kMaxPdu = 1024 * 1024 + 1024;

std::vector<uint8_t> segment_pdu(uint32_t offset, size_t size) {
  auto built = build_pull_data_rsp(0, 0, kTaskId, 7, offset, size);
  for (size_t i = 0; i < size; ++i) {
    built.pdu.data()[built.data_offset + i] = static_cast<uint8_t>((offset + i) * 31 + 5);
  }
  return {built.pdu.data(), built.pdu.data() + built.pdu.size()};
}

std::vector<uint8_t> small_pdu(uint16_t command_id, size_t body_size) {
  std::vector<uint8_t> pdu(kPduHeaderSize + body_size, 0x42);
  PduHeader h;
  h.length = static_cast<uint32_t>(pdu.size());
  h.service_id = kSidFile;
  h.command_id = command_id;
  write_header(h, pdu.data());
  return pdu;
}

bool page_aligned(const uint8_t* p) { return reinterpret_cast<uintptr_t>(p) % 4096 == 0; }

class PduReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    reader_fd_ = fds[0];
    writer_fd_ = fds[1];
    const int big = 4 << 20;
    ::setsockopt(writer_fd_, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    ::setsockopt(reader_fd_, SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
  }
  void TearDown() override {
    ::close(reader_fd_);
    if (writer_fd_ >= 0) ::close(writer_fd_);
  }

  void send(const std::vector<uint8_t>& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::write(writer_fd_, bytes.data() + sent, bytes.size() - sent);
      ASSERT_GT(n, 0) << std::strerror(errno);
      sent += static_cast<size_t>(n);
    }
  }

  // Reads and cuts until `count` PDUs are out (or the stream has nothing
  // more to give).
  std::vector<Bytes> receive(PduReader& reader, size_t count) {
    std::vector<Bytes> pdus;
    while (pdus.size() < count) {
      PduReader::Next next = reader.next();
      if (next.status == FrameStatus::kFrame) {
        pdus.push_back(std::move(next.pdu));
        continue;
      }
      EXPECT_EQ(next.status, FrameStatus::kNeedMore);
      if (reader.read_from(reader_fd_) <= 0) break;
      ++reads_;
    }
    return pdus;
  }

  int reader_fd_ = -1;
  int writer_fd_ = -1;
  size_t reads_ = 0;
};

TEST_F(PduReaderTest, StreamedSegmentsArriveWholeWithTheirPayloadOnAPage) {
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t i = 0; i < 20; ++i) sent.push_back(segment_pdu(i * 32768, 32768));
  for (const auto& pdu : sent) send(pdu);

  PduReader reader(kMaxPdu);
  const std::vector<Bytes> got = receive(reader, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(got[i].size(), sent[i].size());
    EXPECT_EQ(std::memcmp(got[i].data(), sent[i].data(), sent[i].size()), 0) << i;
    const auto view = parse_pull_data_rsp(got[i].span().subspan(kPduHeaderSize));
    ASSERT_TRUE(view.has_value());
    EXPECT_TRUE(page_aligned(view->file_data.data())) << i;
  }
  // The kernel's copy straight into each block: about one read a segment.
  EXPECT_LE(reads_, sent.size() + 2);
  EXPECT_FALSE(reader.holds_partial());
}

TEST_F(PduReaderTest, SmallPdusAndSegmentsInterleavedKeepTheirOrderAndBytes) {
  std::vector<std::vector<uint8_t>> sent;
  for (uint32_t i = 0; i < 12; ++i) {
    sent.push_back(small_pdu(kCidFilePullDataReq, 40 + i));
    sent.push_back(segment_pdu(i * 32768, i % 3 == 0 ? 32768 : 9000 + i));
    sent.push_back(small_pdu(kCidFilePullDataReq, 0));
  }
  sent.push_back(segment_pdu(0, 100));  // a reply too small to place
  for (const auto& pdu : sent) send(pdu);

  PduReader reader(kMaxPdu);
  const std::vector<Bytes> got = receive(reader, sent.size());
  ASSERT_EQ(got.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    ASSERT_EQ(got[i].size(), sent[i].size()) << i;
    EXPECT_EQ(std::memcmp(got[i].data(), sent[i].data(), sent[i].size()), 0) << i;
  }
}

TEST_F(PduReaderTest, ASegmentTrickledAByteAtATimeIsHeldUntilWhole) {
  const std::vector<uint8_t> pdu = segment_pdu(65536, 32768);
  PduReader reader(kMaxPdu);
  for (size_t i = 0; i + 1 < pdu.size(); ++i) {
    send({pdu[i]});
    ASSERT_EQ(reader.read_from(reader_fd_), 1);
    ASSERT_EQ(reader.next().status, FrameStatus::kNeedMore) << i;
    ASSERT_TRUE(reader.holds_partial());
  }
  send({pdu.back()});
  ASSERT_EQ(reader.read_from(reader_fd_), 1);
  PduReader::Next next = reader.next();
  ASSERT_EQ(next.status, FrameStatus::kFrame);
  EXPECT_EQ(next.header.command_id, kCidFilePullDataRsp);
  ASSERT_EQ(next.pdu.size(), pdu.size());
  EXPECT_EQ(std::memcmp(next.pdu.data(), pdu.data(), pdu.size()), 0);
  EXPECT_FALSE(reader.holds_partial());
}

TEST_F(PduReaderTest, ALargeNonSegmentPduIsReadInFewReads) {
  // A PDU bigger than a pooled block (a client pulling 1 MiB at a time) is
  // not read in lookahead-sized pieces: each read asks for all of its rest.
  const std::vector<uint8_t> big = segment_pdu(0, 1 << 20);
  send(big);
  PduReader reader(kMaxPdu);
  const std::vector<Bytes> got = receive(reader, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(std::memcmp(got[0].data(), big.data(), big.size()), 0);
  EXPECT_LE(reads_, 4u);
}

TEST_F(PduReaderTest, ALengthOutOfBoundsIsReportedWithItsHeader) {
  std::vector<uint8_t> bad = small_pdu(kCidFilePullDataRsp, 0);
  PduHeader h = read_header(bad.data());
  h.length = 8;  // shorter than a header
  write_header(h, bad.data());
  send(bad);
  PduReader reader(kMaxPdu);
  ASSERT_GT(reader.read_from(reader_fd_), 0);
  const PduReader::Next next = reader.next();
  EXPECT_EQ(next.status, FrameStatus::kTooShort);
  EXPECT_EQ(next.header.length, 8u);
}

TEST_F(PduReaderTest, EndOfStreamMidSegmentLeavesItPartial) {
  const std::vector<uint8_t> pdu = segment_pdu(0, 32768);
  send({pdu.begin(), pdu.begin() + 5000});
  ::close(writer_fd_);
  writer_fd_ = -1;
  PduReader reader(kMaxPdu);
  EXPECT_TRUE(receive(reader, 1).empty());
  EXPECT_TRUE(reader.holds_partial());
  EXPECT_EQ(reader.read_from(reader_fd_), 0);
}

}  // namespace
}  // namespace ttfs::net
