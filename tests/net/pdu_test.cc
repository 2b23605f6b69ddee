#include "net/pdu.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "IM.BaseDefine.pb.h"
#include "IM.File.pb.h"
#include "IM.Other.pb.h"

namespace ttfs::net {
namespace {

constexpr uint32_t kMax = 1024;

std::vector<uint8_t> header_bytes(uint32_t length, uint16_t seq = 0) {
  PduHeader h;
  h.length = length;
  h.service_id = kSidFile;
  h.command_id = kCidFileState;
  h.seq_num = seq;
  std::vector<uint8_t> out(kPduHeaderSize);
  write_header(h, out.data());
  return out;
}

// A whole PDU whose body is `body_size` filler bytes: framing never looks
// inside the body, so it need not be protobuf.
std::vector<uint8_t> raw_pdu(uint16_t command, uint16_t seq, size_t body_size) {
  PduHeader h;
  h.length = static_cast<uint32_t>(kPduHeaderSize + body_size);
  h.service_id = kSidFile;
  h.command_id = command;
  h.seq_num = seq;
  std::vector<uint8_t> out(h.length);
  write_header(h, out.data());
  for (size_t i = 0; i < body_size; ++i) out[kPduHeaderSize + i] = static_cast<uint8_t>(i * 7 + 1);
  return out;
}

std::span<const uint8_t> prefix(const std::vector<uint8_t>& v, size_t n) { return {v.data(), n}; }

TEST(PduHeader, WritesEveryFieldBigEndianAtItsOffset) {
  PduHeader h;
  h.length = 0x01020304;
  h.version = 0x0506;
  h.flag = 0x0708;
  h.service_id = 0x090a;
  h.command_id = 0x0b0c;
  h.seq_num = 0x0d0e;
  h.reserved = 0x0f10;
  uint8_t out[kPduHeaderSize];
  write_header(h, out);
  const uint8_t expected[kPduHeaderSize] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
                                            0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10};
  for (size_t i = 0; i < kPduHeaderSize; ++i) EXPECT_EQ(out[i], expected[i]) << "byte " << i;
}

TEST(PduHeader, ReadsBackWhatWasWritten) {
  PduHeader h;
  h.length = 0xfedcba98;
  h.version = 0xffff;
  h.flag = 0x8001;
  h.service_id = kSidOther;
  h.command_id = kCidFileServerIpRsp;
  h.seq_num = 0xabcd;
  h.reserved = 0x1234;
  uint8_t buf[kPduHeaderSize];
  write_header(h, buf);
  const PduHeader r = read_header(buf);
  EXPECT_EQ(r.length, h.length);
  EXPECT_EQ(r.version, h.version);
  EXPECT_EQ(r.flag, h.flag);
  EXPECT_EQ(r.service_id, h.service_id);
  EXPECT_EQ(r.command_id, h.command_id);
  EXPECT_EQ(r.seq_num, h.seq_num);
  EXPECT_EQ(r.reserved, h.reserved);
}

TEST(PduHeader, ReadsFromAnUnalignedAddress) {
  // Input bytes sit wherever the read landed them; the reader must not
  // assume alignment.
  std::vector<uint8_t> buf(kPduHeaderSize + 1);
  const auto h = header_bytes(0x00112233, 0x4455);
  std::copy(h.begin(), h.end(), buf.begin() + 1);
  const PduHeader r = read_header(buf.data() + 1);
  EXPECT_EQ(r.length, 0x00112233u);
  EXPECT_EQ(r.seq_num, 0x4455);
  EXPECT_EQ(r.command_id, kCidFileState);
}

TEST(PduHeader, DefaultsAreVersionOneAndZeroFlags) {
  const auto bytes = header_bytes(16);
  EXPECT_EQ(bytes[4], 0x00);
  EXPECT_EQ(bytes[5], 0x01);
  EXPECT_EQ(bytes[6], 0x00);
  EXPECT_EQ(bytes[7], 0x00);
  EXPECT_EQ(bytes[14], 0x00);
  EXPECT_EQ(bytes[15], 0x00);
}

TEST(NextFrame, OneByteAtATimeNeedsMoreUntilTheWholePdu) {
  const auto pdu = raw_pdu(kCidFilePullDataReq, 0x0102, 37);
  for (size_t n = 0; n < pdu.size(); ++n) {
    EXPECT_EQ(next_frame(prefix(pdu, n), kMax).status, FrameStatus::kNeedMore) << n << " bytes";
  }
  const FrameResult r = next_frame(pdu, kMax);
  ASSERT_EQ(r.status, FrameStatus::kFrame);
  EXPECT_EQ(r.header.length, pdu.size());
  EXPECT_EQ(r.header.body_length(), 37u);
  EXPECT_EQ(r.header.version, kPduVersion);
  EXPECT_EQ(r.header.service_id, kSidFile);
  EXPECT_EQ(r.header.command_id, kCidFilePullDataReq);
  EXPECT_EQ(r.header.seq_num, 0x0102);
}

TEST(NextFrame, HeaderIsReportedOnceReadableEvenWhileWaitingForTheBody) {
  const auto pdu = raw_pdu(kCidFileLoginReq, 9, 10);
  const FrameResult r = next_frame(prefix(pdu, kPduHeaderSize), kMax);
  EXPECT_EQ(r.status, FrameStatus::kNeedMore);
  EXPECT_EQ(r.header.length, pdu.size());
}

TEST(NextFrame, CutsSeveralPdusFromOneBufferInSequence) {
  std::vector<std::vector<uint8_t>> pdus = {
      raw_pdu(kCidFileLoginReq, 1, 20),
      raw_pdu(kCidHeartbeat, 2, 0),
      raw_pdu(kCidFilePullDataRsp, 3, 300),
      raw_pdu(kCidFileState, 4, 1),
  };
  std::vector<uint8_t> stream;
  for (const auto& p : pdus) stream.insert(stream.end(), p.begin(), p.end());
  // A torn fifth PDU at the end must wait for the rest.
  const auto torn = raw_pdu(kCidFileLoginRsp, 5, 8);
  stream.insert(stream.end(), torn.begin(), torn.begin() + 20);

  std::span<const uint8_t> rest(stream);
  for (size_t i = 0; i < pdus.size(); ++i) {
    const FrameResult r = next_frame(rest, kMax);
    ASSERT_EQ(r.status, FrameStatus::kFrame) << "pdu " << i;
    EXPECT_EQ(r.header.length, pdus[i].size());
    EXPECT_EQ(r.header.seq_num, i + 1);
    EXPECT_TRUE(std::equal(pdus[i].begin(), pdus[i].end(), rest.begin()));
    rest = rest.subspan(r.header.length);
  }
  const FrameResult last = next_frame(rest, kMax);
  EXPECT_EQ(last.status, FrameStatus::kNeedMore);
  EXPECT_EQ(last.header.seq_num, 5);
}

TEST(NextFrame, LengthsUnderTheHeaderAreTooShortAsSoonAsTheHeaderIsThere) {
  for (uint32_t length : {0u, 1u, 8u, 15u}) {
    auto bytes = header_bytes(length);
    EXPECT_EQ(next_frame(prefix(bytes, kPduHeaderSize - 1), kMax).status, FrameStatus::kNeedMore)
        << length;
    EXPECT_EQ(next_frame(bytes, kMax).status, FrameStatus::kTooShort) << length;
    // Trailing bytes change nothing: the length field alone decides.
    bytes.resize(64, 0);
    EXPECT_EQ(next_frame(bytes, kMax).status, FrameStatus::kTooShort) << length;
  }
}

TEST(NextFrame, ExactlyAHeaderIsAFrameWithAnEmptyBody) {
  const auto bytes = header_bytes(16, 77);
  const FrameResult r = next_frame(bytes, kMax);
  ASSERT_EQ(r.status, FrameStatus::kFrame);
  EXPECT_EQ(r.header.body_length(), 0u);
  EXPECT_EQ(r.header.seq_num, 77);
}

TEST(NextFrame, OverTheMaximumIsTooLongFromTheHeaderAlone) {
  EXPECT_EQ(next_frame(header_bytes(kMax + 1), kMax).status, FrameStatus::kTooLong);
  EXPECT_EQ(next_frame(header_bytes(UINT32_MAX), kMax).status, FrameStatus::kTooLong);
  EXPECT_EQ(next_frame(header_bytes(0x80000000u), kMax).status, FrameStatus::kTooLong);
  // The maximum itself is allowed, and waits for its body.
  EXPECT_EQ(next_frame(header_bytes(kMax), kMax).status, FrameStatus::kNeedMore);
  const auto at_max = raw_pdu(kCidFilePullDataRsp, 1, kMax - kPduHeaderSize);
  EXPECT_EQ(next_frame(at_max, kMax).status, FrameStatus::kFrame);
}

TEST(NextFrame, ATruncatedBodyNeedsMore) {
  const auto pdu = raw_pdu(kCidFilePullDataRsp, 1, 100);
  EXPECT_EQ(next_frame(prefix(pdu, pdu.size() - 1), kMax).status, FrameStatus::kNeedMore);
  EXPECT_EQ(next_frame(prefix(pdu, kPduHeaderSize + 1), kMax).status, FrameStatus::kNeedMore);
}

TEST(NextFrame, BytesBeyondTheFrameBelongToTheNextOne) {
  auto pdu = raw_pdu(kCidFileState, 1, 4);
  const size_t length = pdu.size();
  pdu.push_back(0xff);
  const FrameResult r = next_frame(pdu, kMax);
  ASSERT_EQ(r.status, FrameStatus::kFrame);
  EXPECT_EQ(r.header.length, length);
}

TEST(PatchSeqNum, RewritesOnlyTheSeqBytes) {
  auto pdu = raw_pdu(kCidFilePullDataRsp, 0x1111, 12);
  const auto before = pdu;
  patch_seq_num(pdu.data(), 0xbeef);
  EXPECT_EQ(pdu[12], 0xbe);
  EXPECT_EQ(pdu[13], 0xef);
  for (size_t i = 0; i < pdu.size(); ++i) {
    if (i == 12 || i == 13) continue;
    EXPECT_EQ(pdu[i], before[i]) << "byte " << i;
  }
  EXPECT_EQ(read_header(pdu.data()).seq_num, 0xbeef);
}

TEST(EncodePdu, GeneratedMessageParsesBackWithProtobuf) {
  IM::File::IMFileLoginReq req;
  req.set_user_id(123456);
  req.set_task_id("0f8fad5b-d9cb-469f-a165-70867728950e");
  req.set_file_role(IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);

  const Bytes pdu = encode_pdu(kSidFile, kCidFileLoginReq, 0x4242, req);
  ASSERT_GE(pdu.size(), kPduHeaderSize);
  const FrameResult r = next_frame(pdu.span(), kMax);
  ASSERT_EQ(r.status, FrameStatus::kFrame);
  EXPECT_EQ(r.header.length, pdu.size());
  EXPECT_EQ(r.header.version, kPduVersion);
  EXPECT_EQ(r.header.flag, 0);
  EXPECT_EQ(r.header.reserved, 0);
  EXPECT_EQ(r.header.service_id, kSidFile);
  EXPECT_EQ(r.header.command_id, kCidFileLoginReq);
  EXPECT_EQ(r.header.seq_num, 0x4242);
  EXPECT_EQ(r.header.body_length(), req.ByteSizeLong());

  IM::File::IMFileLoginReq back;
  ASSERT_TRUE(
      back.ParseFromArray(pdu.data() + kPduHeaderSize, static_cast<int>(r.header.body_length())));
  EXPECT_EQ(back.user_id(), 123456u);
  EXPECT_EQ(back.task_id(), req.task_id());
  EXPECT_EQ(back.file_role(), IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(pdu.data() + kPduHeaderSize),
                        r.header.body_length()),
            req.SerializeAsString());
}

TEST(EncodePdu, LargeBodyLengthCountsTheHeader) {
  IM::File::IMFilePullDataRsp rsp;
  rsp.set_result_code(0);
  rsp.set_task_id("t");
  rsp.set_user_id(1);
  rsp.set_offset(32768);
  rsp.set_file_data(std::string(70000, 'x'));
  const Bytes pdu = encode_pdu(kSidFile, kCidFilePullDataRsp, 1, rsp);
  EXPECT_EQ(read_header(pdu.data()).length, kPduHeaderSize + rsp.ByteSizeLong());
  EXPECT_EQ(pdu.size(), kPduHeaderSize + rsp.ByteSizeLong());
}

TEST(EncodePdu, EmptyMessageIsAHeaderOnly) {
  IM::Other::IMHeartBeat beat;
  const Bytes pdu = encode_pdu(kSidOther, kCidHeartbeat, 3, beat);
  ASSERT_EQ(pdu.size(), kPduHeaderSize);
  EXPECT_EQ(read_header(pdu.data()).length, kPduHeaderSize);
}

TEST(EncodeEmptyPdu, IsTheSixteenByteHeartbeat) {
  const Bytes pdu = encode_empty_pdu(kSidOther, kCidHeartbeat, 0x0102);
  const uint8_t expected[kPduHeaderSize] = {0x00, 0x00, 0x00, 0x10, 0x00, 0x01, 0x00, 0x00,
                                            0x00, 0x07, 0x07, 0x01, 0x01, 0x02, 0x00, 0x00};
  ASSERT_EQ(pdu.size(), kPduHeaderSize);
  for (size_t i = 0; i < kPduHeaderSize; ++i) EXPECT_EQ(pdu.data()[i], expected[i]) << i;
  EXPECT_EQ(next_frame(pdu.span(), kMax).status, FrameStatus::kFrame);
}

}  // namespace
}  // namespace ttfs::net
