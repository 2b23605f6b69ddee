// The hand-written PULL_DATA_RSP parser against protobuf-lite's, on the same
// body. Whatever the hand-written one accepts, protobuf must accept with the
// same fields; whatever it refuses, protobuf must refuse too, unless the body
// holds what the codec documents as refused where protobuf is lenient: a key
// wider than 32 bits, a known field with another wire type, or a group. A built PDU must parse back
// to what it was built from.

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include <cstdint>
#include <cstring>
#include <string_view>

#include "IM.File.pb.h"
#include "fuzz_check.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "quiet_protobuf.h"

namespace {

using google::protobuf::internal::WireFormatLite;

// True when the body, read as protobuf reads it, holds a field the
// hand-written parser refuses by design.
bool has_documented_refusal(std::span<const uint8_t> body) {
  google::protobuf::io::CodedInputStream in(body.data(), static_cast<int>(body.size()));
  for (;;) {
    uint64_t key = 0;
    if (static_cast<size_t>(in.CurrentPosition()) == body.size()) return false;
    if (!in.ReadVarint64(&key) || key == 0) return false;
    // protobuf keeps the low 32 bits of a wider key.
    if (key > UINT32_MAX) return true;
    const auto tag = static_cast<uint32_t>(key);
    const uint32_t field = WireFormatLite::GetTagFieldNumber(tag);
    const auto type = WireFormatLite::GetTagWireType(tag);
    if (type == WireFormatLite::WIRETYPE_START_GROUP ||
        type == WireFormatLite::WIRETYPE_END_GROUP) {
      return true;
    }
    const bool varint_field = field == 1 || field == 3 || field == 4;
    const bool bytes_field = field == 2 || field == 5;
    if ((varint_field && type != WireFormatLite::WIRETYPE_VARINT) ||
        (bytes_field && type != WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) {
      return true;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return false;
  }
}

std::string_view as_text(std::span<const uint8_t> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

void check_round_trip(const ttfs::net::PullDataRspView& view) {
  auto built = ttfs::net::build_pull_data_rsp(7, view.result_code, view.task_id, view.user_id,
                                              view.offset, view.file_data.size());
  if (!view.file_data.empty()) {
    std::memcpy(built.pdu.data() + built.data_offset, view.file_data.data(), view.file_data.size());
  }
  const auto header = ttfs::net::read_header(built.pdu.data());
  FUZZ_CHECK(header.length == built.pdu.size());
  FUZZ_CHECK(header.command_id == ttfs::net::kCidFilePullDataRsp);
  const auto again = ttfs::net::parse_pull_data_rsp(built.pdu.span().subspan(16));
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->result_code == view.result_code && again->user_id == view.user_id);
  FUZZ_CHECK(again->offset == view.offset && again->task_id == view.task_id);
  FUZZ_CHECK(as_text(again->file_data) == as_text(view.file_data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> body(data, size);
  const auto view = ttfs::net::parse_pull_data_rsp(body);
  IM::File::IMFilePullDataRsp message;
  const bool protobuf_accepts = message.ParseFromArray(data, static_cast<int>(size));
  if (!view) {
    FUZZ_CHECK(!protobuf_accepts || has_documented_refusal(body));
    return 0;
  }
  FUZZ_CHECK(protobuf_accepts);
  FUZZ_CHECK(view->result_code == message.result_code());
  FUZZ_CHECK(view->task_id == message.task_id());
  FUZZ_CHECK(view->user_id == message.user_id());
  FUZZ_CHECK(view->offset == message.offset());
  FUZZ_CHECK(as_text(view->file_data) == message.file_data());
  // The views point into the body itself: the payload is never copied.
  FUZZ_CHECK(view->file_data.data() >= data && view->file_data.size() <= size &&
             view->file_data.data() + view->file_data.size() <= data + size);
  check_round_trip(*view);
  return 0;
}
