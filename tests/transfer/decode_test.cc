#include "transfer/decode.h"

#include <gtest/gtest.h>

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "net/pull_data_codec.h"
#include "storage/crc32c.h"
#include "task_events.h"

namespace ttfs::transfer::testing {
namespace {

const ConnHandle kConn = conn(4);
const TaskId kTask = make_info(IM::BaseDefine::FILE_TYPE_OFFLINE, 0).id;

net::PduHeader header_of(const Bytes& pdu) { return net::read_header(pdu.data()); }

Bytes with_body(uint16_t command, std::string_view body, uint16_t seq = 9) {
  Bytes pdu(net::kPduHeaderSize + body.size());
  net::PduHeader h;
  h.length = static_cast<uint32_t>(pdu.size());
  h.service_id = net::kSidFile;
  h.command_id = command;
  h.seq_num = seq;
  net::write_header(h, pdu.data());
  std::copy(body.begin(), body.end(), pdu.data() + net::kPduHeaderSize);
  return pdu;
}

TEST(DecodeTransferReq, ReadsEveryFieldAndLeavesTheIdToTheRouter) {
  IM::Server::IMFileTransferReq req;
  req.set_from_user_id(kFromUser);
  req.set_to_user_id(kToUser);
  req.set_file_name("photo.jpg");
  req.set_file_size(123456);
  req.set_trans_mode(IM::BaseDefine::FILE_TYPE_ONLINE);
  req.set_attach_data("context");
  const Bytes pdu = net::encode_pdu(net::kSidOther, net::kCidFileTransferReq, 42, req);
  const auto create = decode_transfer_req(kConn, header_of(pdu), pdu);
  ASSERT_TRUE(create.has_value());
  EXPECT_EQ(create->conn, kConn);
  EXPECT_EQ(create->seq, 42);
  EXPECT_EQ(create->info.from_user_id, kFromUser);
  EXPECT_EQ(create->info.to_user_id, kToUser);
  EXPECT_EQ(create->info.file_name, "photo.jpg");
  EXPECT_EQ(create->info.file_size, 123456u);
  EXPECT_EQ(create->info.mode, IM::BaseDefine::FILE_TYPE_ONLINE);
  EXPECT_EQ(create->attach_data, "context");
  EXPECT_TRUE(create->info.id.is_nil());
}

TEST(DecodeTransferReq, MissingRequiredFieldIsMalformed) {
  IM::Server::IMFileTransferReq req;
  req.set_from_user_id(kFromUser);
  const std::string partial = req.SerializePartialAsString();
  const Bytes pdu = with_body(net::kCidFileTransferReq, partial);
  EXPECT_FALSE(decode_transfer_req(kConn, header_of(pdu), pdu).has_value());
}

TEST(DecodeLogin, CanonicalTaskIdGivesALogin) {
  IM::File::IMFileLoginReq req;
  req.set_user_id(kFromUser);
  req.set_task_id(kTask.str());
  req.set_file_role(IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
  const Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFileLoginReq, 3, req);
  const DecodedLogin decoded = decode_login(kConn, header_of(pdu), pdu);
  EXPECT_EQ(decoded.malformed, nullptr);
  ASSERT_TRUE(decoded.login.has_value());
  EXPECT_EQ(decoded.login->task, kTask);
  EXPECT_EQ(decoded.login->seq, 3);
  EXPECT_EQ(decoded.login->user_id, kFromUser);
  EXPECT_EQ(decoded.login->role, IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
}

TEST(DecodeLogin, UpperCaseTaskIdIsKeptForTheRefusalButGivesNoLogin) {
  IM::File::IMFileLoginReq req;
  req.set_user_id(kFromUser);
  req.set_task_id("6F1D7C1E-2B3A-4C5D-8E9F-0A1B2C3D4E5F");
  req.set_file_role(IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
  const Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFileLoginReq, 3, req);
  const DecodedLogin decoded = decode_login(kConn, header_of(pdu), pdu);
  EXPECT_EQ(decoded.malformed, nullptr);
  EXPECT_FALSE(decoded.login.has_value());
  EXPECT_EQ(decoded.task_id, req.task_id());
}

TEST(DecodeLogin, UnparsableBodyIsMalformed) {
  const Bytes pdu = with_body(net::kCidFileLoginReq, "\x0a\x7f");
  EXPECT_NE(decode_login(kConn, header_of(pdu), pdu).malformed, nullptr);
}

TEST(DecodeTaskCommand, PullDataRspKeepsItsPayloadInThePdu) {
  PullResponse sent = make_response(kConn, 5, kFromUser, kSeg, 100);
  const Bytes pdu = Bytes::copy_of(sent.data.block.span());
  const uint8_t* payload = pdu.data() + sent.data.offset;
  DecodedCommand decoded =
      decode_task_command(kConn, header_of(pdu), Bytes::copy_of(pdu.span()), kTask);
  ASSERT_TRUE(decoded.event.has_value()) << decoded.refusal;
  const auto& rsp = std::get<PullResponse>(*decoded.event);
  EXPECT_EQ(rsp.seq, 5);
  EXPECT_EQ(rsp.user_id, kFromUser);
  EXPECT_EQ(rsp.offset, kSeg);
  EXPECT_EQ(rsp.data.offset, sent.data.offset);
  ASSERT_EQ(rsp.data.size(), 100u);
  EXPECT_TRUE(std::equal(payload, payload + 100, rsp.data.data()));
  EXPECT_FALSE(rsp.data.crc32c.has_value()) << "a relay's payload is not checksummed";
}

TEST(DecodeTaskCommand, AnUploadsPayloadComesWithItsChecksum) {
  PullResponse sent = make_response(kConn, 5, kFromUser, kSeg, 4000);
  const Bytes pdu = Bytes::copy_of(sent.data.block.span());
  DecodedCommand decoded =
      decode_task_command(kConn, header_of(pdu), Bytes::copy_of(pdu.span()), kTask, true);
  ASSERT_TRUE(decoded.event.has_value()) << decoded.refusal;
  const auto& rsp = std::get<PullResponse>(*decoded.event);
  ASSERT_TRUE(rsp.data.crc32c.has_value());
  EXPECT_EQ(*rsp.data.crc32c, storage::crc32c(pdu.span().subspan(sent.data.offset, 4000)));
}

TEST(DecodeTaskCommand, PullDataReqAndStateTravelWithTheirPdu) {
  PullRequest pull = make_pull(kConn, 6, kToUser, 0, kSeg, IM::BaseDefine::FILE_TYPE_OFFLINE);
  DecodedCommand decoded =
      decode_task_command(kConn, header_of(pull.pdu), Bytes::copy_of(pull.pdu.span()), kTask);
  ASSERT_TRUE(decoded.event.has_value()) << decoded.refusal;
  const auto& req = std::get<PullRequest>(*decoded.event);
  EXPECT_EQ(req.size, kSeg);
  EXPECT_EQ(req.user_id, kToUser);
  EXPECT_TRUE(std::ranges::equal(req.pdu.span(), pull.pdu.span()));

  StateReport state = make_state(kConn, kToUser, IM::BaseDefine::CLIENT_FILE_CANCEL, 8);
  decoded =
      decode_task_command(kConn, header_of(state.pdu), Bytes::copy_of(state.pdu.span()), kTask);
  ASSERT_TRUE(decoded.event.has_value()) << decoded.refusal;
  EXPECT_EQ(std::get<StateReport>(*decoded.event).state, IM::BaseDefine::CLIENT_FILE_CANCEL);
}

TEST(DecodeTaskCommand, AnotherTasksIdIsRefused) {
  const TaskId other = TaskId::generate();
  PullRequest pull = make_pull(kConn, 6, kToUser, 0, kSeg, IM::BaseDefine::FILE_TYPE_OFFLINE);
  const net::PduHeader header = header_of(pull.pdu);
  const DecodedCommand decoded = decode_task_command(kConn, header, std::move(pull.pdu), other);
  EXPECT_FALSE(decoded.event.has_value());
  EXPECT_STREQ(decoded.refusal, "PULL_DATA_REQ for another task");
}

TEST(DecodeTaskCommand, UnknownCommandIsRefused) {
  const Bytes pdu = with_body(net::kCidFileLoginRsp, "");
  const DecodedCommand decoded =
      decode_task_command(kConn, header_of(pdu), Bytes::copy_of(pdu.span()), kTask);
  EXPECT_FALSE(decoded.event.has_value());
  EXPECT_STREQ(decoded.refusal, "unknown command on the client port");
}

TEST(DecodeTaskCommand, MalformedBodiesAreRefused) {
  for (uint16_t command :
       {net::kCidFilePullDataRsp, net::kCidFilePullDataReq, net::kCidFileState}) {
    const Bytes pdu = with_body(command, "\x08");
    const DecodedCommand decoded =
        decode_task_command(kConn, header_of(pdu), Bytes::copy_of(pdu.span()), kTask);
    EXPECT_FALSE(decoded.event.has_value()) << command;
    EXPECT_NE(decoded.refusal, nullptr) << command;
  }
}

}  // namespace
}  // namespace ttfs::transfer::testing
