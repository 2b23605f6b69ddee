#include "net/pull_data_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "IM.File.pb.h"
#include "net/pdu.h"

namespace ttfs::net {
namespace {

const std::string kTaskId = "0f8fad5b-d9cb-469f-a165-70867728950e";

// Hand-assembles protobuf wire bytes, so that bodies protobuf itself would
// never produce (reordered, repeated, torn, malformed) can be fed in.
class Wire {
 public:
  Wire& varint(uint64_t v) {
    while (v >= 0x80) {
      bytes_.push_back(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    bytes_.push_back(static_cast<uint8_t>(v));
    return *this;
  }
  Wire& key(uint32_t field, uint32_t wire_type) { return varint(uint64_t{field} << 3 | wire_type); }
  Wire& u(uint32_t field, uint64_t v) { return key(field, 0).varint(v); }
  Wire& s(uint32_t field, const std::string& v) {
    key(field, 2).varint(v.size());
    bytes_.insert(bytes_.end(), v.begin(), v.end());
    return *this;
  }
  Wire& raw(std::initializer_list<uint8_t> b) {
    bytes_.insert(bytes_.end(), b);
    return *this;
  }
  Wire& append(const Wire& other) {
    bytes_.insert(bytes_.end(), other.bytes_.begin(), other.bytes_.end());
    return *this;
  }
  Wire& fixed(uint32_t field, int wire_type, size_t n) {
    key(field, static_cast<uint32_t>(wire_type));
    bytes_.insert(bytes_.end(), n, 0xab);
    return *this;
  }

  const std::vector<uint8_t>& bytes() const { return bytes_; }
  std::string str() const { return {bytes_.begin(), bytes_.end()}; }

 private:
  std::vector<uint8_t> bytes_;
};

// The five required fields, each one optional here so a test can omit it.
struct Fields {
  std::optional<uint32_t> result_code = 0;
  std::optional<std::string> task_id = kTaskId;
  std::optional<uint32_t> user_id = 1001;
  std::optional<uint32_t> offset = 65536;
  std::optional<std::string> file_data = std::string("payload");
};

Wire canonical(const Fields& f) {
  Wire w;
  if (f.result_code) w.u(1, *f.result_code);
  if (f.task_id) w.s(2, *f.task_id);
  if (f.user_id) w.u(3, *f.user_id);
  if (f.offset) w.u(4, *f.offset);
  if (f.file_data) w.s(5, *f.file_data);
  return w;
}

std::optional<PullDataRspView> parse(const Wire& w) { return parse_pull_data_rsp(w.bytes()); }

bool protobuf_accepts(const Wire& w, IM::File::IMFilePullDataRsp* out = nullptr) {
  IM::File::IMFilePullDataRsp msg;
  // The partial parse plus the check is ParseFromString without its log line
  // for every missing required field.
  const bool ok = msg.ParsePartialFromString(w.str()) && msg.IsInitialized();
  if (out != nullptr) *out = msg;
  return ok;
}

std::string as_string(std::span<const uint8_t> s) { return {s.begin(), s.end()}; }

void fill_pattern(uint8_t* p, size_t n, uint8_t seed) {
  for (size_t i = 0; i < n; ++i) p[i] = static_cast<uint8_t>(seed + i * 31);
}

TEST(BuildPullDataRsp, HeaderNamesTheCommandAndCountsTheWholePdu) {
  const auto built = build_pull_data_rsp(0x0a0b, 0, kTaskId, 7, 32768, 100);
  const PduHeader h = read_header(built.pdu.data());
  EXPECT_EQ(h.length, built.pdu.size());
  EXPECT_EQ(h.service_id, kSidFile);
  EXPECT_EQ(h.command_id, kCidFilePullDataRsp);
  EXPECT_EQ(h.seq_num, 0x0a0b);
  EXPECT_EQ(h.version, kPduVersion);
  // The payload is the very end of the PDU: file_data is serialised last.
  EXPECT_EQ(built.data_offset + 100, built.pdu.size());
}

TEST(BuildPullDataRsp, RoundTripsThroughTheParser) {
  for (size_t size : {size_t{0}, size_t{1}, size_t{127}, size_t{128}, size_t{32768}}) {
    auto built = build_pull_data_rsp(5, 0, kTaskId, 4000000000u, 0xfffffff0u, size);
    fill_pattern(built.pdu.data() + built.data_offset, size, static_cast<uint8_t>(size));
    const auto body = built.pdu.span().subspan(kPduHeaderSize);
    const auto view = parse_pull_data_rsp(body);
    ASSERT_TRUE(view.has_value()) << size;
    EXPECT_EQ(view->result_code, 0u);
    EXPECT_EQ(view->task_id, kTaskId);
    EXPECT_EQ(view->user_id, 4000000000u);
    EXPECT_EQ(view->offset, 0xfffffff0u);
    ASSERT_EQ(view->file_data.size(), size);
    if (size > 0) {
      // A view, not a copy: it points at the filled bytes in the PDU.
      EXPECT_EQ(view->file_data.data(), built.pdu.data() + built.data_offset);
    }
  }
}

TEST(BuildPullDataRsp, IsByteForByteWhatProtobufSerialises) {
  struct Case {
    uint32_t result_code;
    std::string task_id;
    uint32_t user_id;
    uint32_t offset;
    size_t size;
  };
  const Case cases[] = {
      {0, kTaskId, 1, 0, 32768},
      {1, kTaskId, 0, 0, 0},
      {127, "", 128, 16383, 1},
      {UINT32_MAX, std::string(200, 'z'), UINT32_MAX, UINT32_MAX, 300},
      {0, kTaskId, 16384, 2097152, 2000000},
  };
  for (const Case& c : cases) {
    auto built = build_pull_data_rsp(1, c.result_code, c.task_id, c.user_id, c.offset, c.size);
    fill_pattern(built.pdu.data() + built.data_offset, c.size, 3);

    IM::File::IMFilePullDataRsp msg;
    msg.set_result_code(c.result_code);
    msg.set_task_id(c.task_id);
    msg.set_user_id(c.user_id);
    msg.set_offset(c.offset);
    msg.set_file_data(
        std::string(reinterpret_cast<const char*>(built.pdu.data()) + built.data_offset, c.size));
    const std::string expected = msg.SerializeAsString();
    const std::string body(reinterpret_cast<const char*>(built.pdu.data()) + kPduHeaderSize,
                           built.pdu.size() - kPduHeaderSize);
    EXPECT_EQ(body, expected) << "size " << c.size << " task " << c.task_id.size();
  }
}

bool page_aligned(const void* p) { return reinterpret_cast<uintptr_t>(p) % kPayloadAlignment == 0; }

TEST(BuildPullDataRsp, ASegmentsPayloadIsPageAlignedForDirectReads) {
  for (size_t size : {size_t{4096}, size_t{32768}, size_t{32769}, size_t{1} << 20}) {
    const auto rsp = build_pull_data_rsp(1, 0, kTaskId, 7, 0, size);
    EXPECT_TRUE(page_aligned(rsp.pdu.data() + rsp.data_offset)) << size;
    EXPECT_EQ(rsp.pdu.size(), rsp.data_offset + size);
  }
}

TEST(CopyPdu, PlacesAPullDataRspPayloadOnAPageBoundary) {
  for (size_t size : {size_t{4096}, size_t{32768}, size_t{40000}}) {
    const std::vector<uint8_t> payload = [&] {
      std::vector<uint8_t> v(size);
      for (size_t i = 0; i < size; ++i) v[i] = static_cast<uint8_t>(i * 7 + 1);
      return v;
    }();
    auto built = build_pull_data_rsp(9, 0, kTaskId, 7, 65536, size);
    std::memcpy(built.pdu.data() + built.data_offset, payload.data(), size);
    // As it sits in an input buffer: at an arbitrary address.
    std::vector<uint8_t> input(built.pdu.size() + 3);
    std::memcpy(input.data() + 3, built.pdu.data(), built.pdu.size());
    const std::span<const uint8_t> framed(input.data() + 3, built.pdu.size());

    const Bytes copy = copy_pdu(framed, read_header(framed.data()));
    ASSERT_EQ(copy.size(), framed.size());
    EXPECT_EQ(std::memcmp(copy.data(), framed.data(), framed.size()), 0);
    const auto view = parse_pull_data_rsp(copy.span().subspan(kPduHeaderSize));
    ASSERT_TRUE(view.has_value());
    EXPECT_TRUE(page_aligned(view->file_data.data())) << size;
    EXPECT_EQ(view->file_data.size(), size);
  }
}

TEST(CopyPdu, CopiesOtherPdusAndBrokenRepliesAsTheyAre) {
  auto small = build_pull_data_rsp(1, 0, kTaskId, 7, 0, 100);  // too small to align
  auto broken = build_pull_data_rsp(1, 0, kTaskId, 7, 0, 8192);
  broken.pdu.data()[kPduHeaderSize] = 0xff;  // no longer parses
  for (const Bytes* pdu : {&small.pdu, &broken.pdu}) {
    const Bytes copy = copy_pdu(pdu->span(), read_header(pdu->data()));
    ASSERT_EQ(copy.size(), pdu->size());
    EXPECT_EQ(std::memcmp(copy.data(), pdu->data(), pdu->size()), 0);
  }
}

TEST(FindPullDataPayload, NeedsOnlyTheFieldsBeforeThePayload) {
  const auto built = build_pull_data_rsp(1, 0, kTaskId, 7, 65536, 32768);
  const std::span<const uint8_t> pdu = built.pdu.span();
  for (size_t arrived = 0; arrived < built.data_offset; ++arrived) {
    EXPECT_FALSE(find_pull_data_payload(pdu.first(arrived)).has_value()) << arrived;
  }
  for (size_t arrived : {built.data_offset, built.data_offset + 1, pdu.size()}) {
    const auto at = find_pull_data_payload(pdu.first(arrived));
    ASSERT_TRUE(at.has_value()) << arrived;
    EXPECT_EQ(*at, built.data_offset);
  }
}

TEST(FindPullDataPayload, FindsThePayloadAfterFieldsInAnotherOrder) {
  const std::string data(5000, 'd');
  const Wire body =
      Wire().u(4, 65536).s(2, kTaskId).key(99, 0).varint(1).u(3, 7).u(1, 0).s(5, data);
  std::vector<uint8_t> pdu(kPduHeaderSize);
  pdu.insert(pdu.end(), body.bytes().begin(), body.bytes().end());
  const auto at = find_pull_data_payload(pdu);
  ASSERT_TRUE(at.has_value());
  EXPECT_EQ(*at, pdu.size() - data.size());
}

TEST(FindPullDataPayload, ABodyThatIsNotOneHasNoPayload) {
  std::vector<uint8_t> pdu(kPduHeaderSize, 0);
  pdu.push_back(0x00);  // field 0
  pdu.push_back(0x01);
  EXPECT_FALSE(find_pull_data_payload(pdu).has_value());
}

TEST(ParsePullDataRsp, ReadsWhatProtobufWrites) {
  IM::File::IMFilePullDataRsp msg;
  msg.set_result_code(3);
  msg.set_task_id(kTaskId);
  msg.set_user_id(99);
  msg.set_offset(123456);
  msg.set_file_data(std::string(5000, '\x5a'));
  const std::string wire = msg.SerializeAsString();
  const auto view =
      parse_pull_data_rsp(std::span(reinterpret_cast<const uint8_t*>(wire.data()), wire.size()));
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->result_code, 3u);
  EXPECT_EQ(view->task_id, kTaskId);
  EXPECT_EQ(view->user_id, 99u);
  EXPECT_EQ(view->offset, 123456u);
  EXPECT_EQ(as_string(view->file_data), msg.file_data());
}

TEST(ParsePullDataRsp, FieldsInAnotherOrder) {
  Wire w;
  w.s(5, "data").u(4, 8).s(2, kTaskId).u(3, 77).u(1, 0);
  ASSERT_TRUE(protobuf_accepts(w));
  const auto view = parse(w);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(as_string(view->file_data), "data");
  EXPECT_EQ(view->offset, 8u);
  EXPECT_EQ(view->task_id, kTaskId);
  EXPECT_EQ(view->user_id, 77u);
  EXPECT_EQ(view->result_code, 0u);
}

TEST(ParsePullDataRsp, UnknownFieldsOfEveryWireTypeAreSkipped) {
  Wire w = canonical({});
  w.u(6, 300);              // varint
  w.s(7, "unknown bytes");  // length-delimited
  w.fixed(8, 5, 4);         // fixed32
  w.fixed(9, 1, 8);         // fixed64
  w.u(1000000, 1);          // a multi-byte key
  w.s(15, std::string(200, 'q'));
  // Unknown fields before the known ones as well as after them.
  Wire body;
  body.u(20, 5).s(21, "").append(w);
  ASSERT_TRUE(protobuf_accepts(body));
  const auto view = parse(body);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->task_id, kTaskId);
  EXPECT_EQ(view->user_id, 1001u);
  EXPECT_EQ(view->offset, 65536u);
  EXPECT_EQ(as_string(view->file_data), "payload");
}

TEST(ParsePullDataRsp, ARepeatedScalarKeepsTheLastValueAsProtobufDoes) {
  Wire w = canonical({});
  w.u(4, 32768).u(3, 5).u(1, 2).s(2, "second").s(5, "later");
  IM::File::IMFilePullDataRsp msg;
  ASSERT_TRUE(protobuf_accepts(w, &msg));
  const auto view = parse(w);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->offset, msg.offset());
  EXPECT_EQ(view->offset, 32768u);
  EXPECT_EQ(view->user_id, msg.user_id());
  EXPECT_EQ(view->result_code, msg.result_code());
  EXPECT_EQ(view->task_id, msg.task_id());
  EXPECT_EQ(as_string(view->file_data), msg.file_data());
}

TEST(ParsePullDataRsp, MissingAnyRequiredFieldIsRefused) {
  for (int missing = 1; missing <= 5; ++missing) {
    Fields f;
    switch (missing) {
      case 1: f.result_code.reset(); break;
      case 2: f.task_id.reset(); break;
      case 3: f.user_id.reset(); break;
      case 4: f.offset.reset(); break;
      case 5: f.file_data.reset(); break;
    }
    const Wire w = canonical(f);
    EXPECT_FALSE(protobuf_accepts(w)) << "field " << missing;
    EXPECT_FALSE(parse(w).has_value()) << "field " << missing;
  }
}

TEST(ParsePullDataRsp, EmptyFieldsArePresentFields) {
  Fields f;
  f.task_id = "";
  f.file_data = "";
  f.result_code = 0;
  f.offset = 0;
  f.user_id = 0;
  const auto view = parse(canonical(f));
  ASSERT_TRUE(view.has_value());
  EXPECT_TRUE(view->task_id.empty());
  EXPECT_TRUE(view->file_data.empty());
}

TEST(ParsePullDataRsp, EmptyBodyIsRefused) { EXPECT_FALSE(parse_pull_data_rsp({}).has_value()); }

TEST(ParsePullDataRsp, TruncatedVarintIsRefused) {
  Fields f;
  f.offset.reset();
  Wire w = canonical(f);
  w.key(4, 0).raw({0x80, 0x80});  // continuation bits with nothing after
  EXPECT_FALSE(protobuf_accepts(w));
  EXPECT_FALSE(parse(w).has_value());

  Wire key_only = canonical(f);
  key_only.raw({0x80});  // a torn key
  EXPECT_FALSE(parse(key_only).has_value());
}

TEST(ParsePullDataRsp, VarintLongerThanTenBytesIsRefused) {
  Fields f;
  f.offset.reset();
  Wire w = canonical(f);
  w.key(4, 0).raw({0x81, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00});
  EXPECT_FALSE(protobuf_accepts(w));
  EXPECT_FALSE(parse(w).has_value());
}

TEST(ParsePullDataRsp, LengthBeyondTheBodyIsRefused) {
  Fields f;
  f.file_data.reset();
  Wire w = canonical(f);
  w.key(5, 2).varint(10).raw({1, 2, 3, 4, 5, 6, 7, 8, 9});  // one byte short
  EXPECT_FALSE(protobuf_accepts(w));
  EXPECT_FALSE(parse(w).has_value());

  Wire huge = canonical(f);
  huge.key(5, 2).varint(UINT64_MAX).raw({1});
  EXPECT_FALSE(parse(huge).has_value());

  Wire unknown = canonical({});
  unknown.key(9, 2).varint(3).raw({1});
  EXPECT_FALSE(parse(unknown).has_value());
}

TEST(ParsePullDataRsp, ALengthPrefixLongerThanFiveBytesIsRefusedAsProtobufRefusesIt) {
  // Ten bytes whose last bits fall off the top of 64: read as a varint of
  // values, this says 0, and the body would go on from the next byte.
  Fields f;
  f.task_id.reset();
  Wire w = canonical(f);
  w.key(2, 2).raw({0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x26});
  EXPECT_FALSE(protobuf_accepts(w));
  EXPECT_FALSE(parse(w).has_value());
  // Six bytes saying 3, as a padded value varint may: still refused.
  Wire padded = canonical(f);
  padded.key(2, 2).raw({0x83, 0x80, 0x80, 0x80, 0x80, 0x00, 'a', 'b', 'c'});
  EXPECT_FALSE(protobuf_accepts(padded));
  EXPECT_FALSE(parse(padded).has_value());
  // Five bytes saying 3 are read as protobuf reads them.
  Wire five = canonical(f);
  five.key(2, 2).raw({0x83, 0x80, 0x80, 0x80, 0x00, 'a', 'b', 'c'});
  ASSERT_TRUE(protobuf_accepts(five));
  const auto view = parse(five);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->task_id, "abc");
}

TEST(ParsePullDataRsp, TornFixedWidthUnknownFieldIsRefused) {
  Wire w32 = canonical({});
  w32.key(9, 5).raw({1, 2, 3});
  EXPECT_FALSE(parse(w32).has_value());
  Wire w64 = canonical({});
  w64.key(9, 1).raw({1, 2, 3, 4, 5, 6, 7});
  EXPECT_FALSE(parse(w64).has_value());
}

TEST(ParsePullDataRsp, KnownFieldOnlyPresentWithTheWrongWireTypeIsRefused) {
  // However the mismatch is treated, the field is then missing.
  Fields no_offset;
  no_offset.offset.reset();
  Wire offset_as_bytes = canonical(no_offset);
  offset_as_bytes.s(4, "x");
  EXPECT_FALSE(parse(offset_as_bytes).has_value());

  Fields no_data;
  no_data.file_data.reset();
  Wire data_as_varint = canonical(no_data);
  data_as_varint.u(5, 1);
  EXPECT_FALSE(parse(data_as_varint).has_value());

  Fields no_code;
  no_code.result_code.reset();
  Wire code_as_fixed32 = canonical(no_code);
  code_as_fixed32.fixed(1, 5, 4);
  EXPECT_FALSE(parse(code_as_fixed32).has_value());

  Fields no_task;
  no_task.task_id.reset();
  Wire task_as_fixed64 = canonical(no_task);
  task_as_fixed64.fixed(2, 1, 8);
  EXPECT_FALSE(parse(task_as_fixed64).has_value());
}

TEST(ParsePullDataRsp, KnownFieldOfTheWrongWireTypeIsRefused) {
  // Stricter than protobuf lite, which would keep the mistyped field as an
  // unknown one and accept the message.
  Wire offset_as_bytes = canonical({});
  offset_as_bytes.s(4, "x");
  EXPECT_FALSE(parse(offset_as_bytes).has_value());
  Wire data_as_varint = canonical({});
  data_as_varint.u(5, 1);
  EXPECT_FALSE(parse(data_as_varint).has_value());
  Wire code_as_fixed32 = canonical({});
  code_as_fixed32.fixed(1, 5, 4);
  EXPECT_FALSE(parse(code_as_fixed32).has_value());
  Wire task_as_fixed64 = canonical({});
  task_as_fixed64.fixed(2, 1, 8);
  EXPECT_FALSE(parse(task_as_fixed64).has_value());
}

TEST(ParsePullDataRsp, FieldNumberZeroIsRefused) {
  for (uint32_t type : {0u, 2u}) {
    Wire body = canonical({});
    body.key(0, type).varint(0);
    EXPECT_FALSE(protobuf_accepts(body)) << type;
    EXPECT_FALSE(parse(body).has_value()) << type;
  }
}

TEST(ParsePullDataRsp, GroupWireTypesAreRefused) {
  for (uint32_t type : {3u, 4u}) {
    Wire unknown = canonical({});
    unknown.key(9, type);
    EXPECT_FALSE(parse(unknown).has_value()) << type;
    Wire known = canonical({});
    known.key(4, type);
    EXPECT_FALSE(parse(known).has_value()) << type;
  }
  // A whole, well-formed group is refused as well: the protocol has none.
  Wire group = canonical({});
  group.key(9, 3).u(1, 1).key(9, 4);
  EXPECT_FALSE(parse(group).has_value());
}

TEST(ParsePullDataRsp, ReservedWireTypesAreRefused) {
  for (uint32_t type : {6u, 7u}) {
    Wire w = canonical({});
    w.key(9, type).varint(0);
    EXPECT_FALSE(protobuf_accepts(w)) << type;
    EXPECT_FALSE(parse(w).has_value()) << type;
  }
}

TEST(ParsePullDataRsp, KeyWiderThan32BitsIsRefused) {
  Wire w = canonical({});
  w.varint(uint64_t{1} << 35);
  EXPECT_FALSE(parse(w).has_value());
}

TEST(ParsePullDataRsp, KeyLongerThanFiveBytesIsRefusedLikeProtobuf) {
  // Field 9 as a varint, its key (72) padded to six bytes: a value fits in
  // 32 bits, but protobuf reads no key past its fifth byte.
  Wire w = canonical({});
  w.raw({0xc8, 0x80, 0x80, 0x80, 0x80, 0x00}).varint(0);
  EXPECT_FALSE(protobuf_accepts(w));
  EXPECT_FALSE(parse(w).has_value());
  // Five bytes are still a key.
  Wire five = canonical({});
  five.raw({0xc8, 0x80, 0x80, 0x80, 0x00}).varint(0);
  EXPECT_TRUE(protobuf_accepts(five));
  EXPECT_TRUE(parse(five).has_value());
}

TEST(ParsePullDataRsp, SixtyFourBitVarintKeepsTheLow32BitsLikeProtobuf) {
  const uint64_t wide[] = {
      (uint64_t{1} << 32) | 5,
      0xffffffffffffffffull,  // -1 as an int64, ten bytes on the wire
      0x123456789abcdef0ull,
      uint64_t{1} << 63,
  };
  for (uint64_t v : wide) {
    Fields f;
    f.offset.reset();
    f.user_id.reset();
    f.result_code.reset();
    Wire w = canonical(f);
    w.u(4, v).u(3, v).u(1, v);
    IM::File::IMFilePullDataRsp msg;
    ASSERT_TRUE(protobuf_accepts(w, &msg)) << std::hex << v;
    const auto view = parse(w);
    ASSERT_TRUE(view.has_value()) << std::hex << v;
    EXPECT_EQ(view->offset, static_cast<uint32_t>(v));
    EXPECT_EQ(view->offset, msg.offset()) << std::hex << v;
    EXPECT_EQ(view->user_id, msg.user_id()) << std::hex << v;
    EXPECT_EQ(view->result_code, msg.result_code()) << std::hex << v;
  }
}

TEST(ParsePullDataRsp, OverlongButValidVarintEncodingIsAccepted) {
  // 5 written in three bytes: legal protobuf, if wasteful.
  Fields f;
  f.offset.reset();
  Wire w = canonical(f);
  w.key(4, 0).raw({0x85, 0x80, 0x00});
  IM::File::IMFilePullDataRsp msg;
  ASSERT_TRUE(protobuf_accepts(w, &msg));
  const auto view = parse(w);
  ASSERT_TRUE(view.has_value());
  EXPECT_EQ(view->offset, 5u);
  EXPECT_EQ(msg.offset(), 5u);
}

}  // namespace
}  // namespace ttfs::net
