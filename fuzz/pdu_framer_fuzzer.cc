// The PDU framer as an IO thread runs it: a byte stream arrives in chunks of
// any size, each appended to the connection's Buffer, and whole PDUs are cut
// from its front until it needs more. Whatever the chunking, the framer must
// cut exactly the PDUs a reference reading of the whole stream finds, refuse
// a bad length as soon as the header is there, and never hand out a frame
// that is shorter than a header, longer than the maximum or than the input.

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "net/buffer.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace {

using ttfs::net::FrameStatus;
using ttfs::net::kPduHeaderSize;

uint32_t big_endian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

// What a reading of the whole stream at once yields: the PDUs in order, then
// either a bad length (at `error_at`) or an incomplete tail.
struct Expected {
  std::vector<std::pair<size_t, uint32_t>> frames;  // offset, length
  bool error = false;
  FrameStatus error_status = FrameStatus::kNeedMore;
};

Expected read_whole(const std::vector<uint8_t>& stream, uint32_t max_pdu_length) {
  Expected out;
  size_t pos = 0;
  while (stream.size() - pos >= kPduHeaderSize) {
    const uint32_t length = big_endian32(stream.data() + pos);
    if (length < kPduHeaderSize || length > max_pdu_length) {
      out.error = true;
      out.error_status = length < kPduHeaderSize ? FrameStatus::kTooShort : FrameStatus::kTooLong;
      break;
    }
    if (stream.size() - pos < length) break;
    out.frames.emplace_back(pos, length);
    pos += length;
  }
  return out;
}

void check_header_round_trip(const uint8_t* pdu) {
  uint8_t again[kPduHeaderSize];
  ttfs::net::write_header(ttfs::net::read_header(pdu), again);
  FUZZ_CHECK(std::memcmp(again, pdu, kPduHeaderSize) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  // Small maxima as well as large ones, so that kTooLong is reachable.
  const uint32_t max_pdu_length = in.ConsumeBool() ? in.ConsumeIntegralInRange<uint32_t>(0, 256)
                                                   : in.ConsumeIntegral<uint32_t>();
  const std::vector<uint8_t> chunk_sizes =
      in.ConsumeBytes<uint8_t>(in.ConsumeIntegralInRange(0, 32));
  const std::vector<uint8_t> stream = in.ConsumeRemainingBytes<uint8_t>();
  const Expected expected = read_whole(stream, max_pdu_length);

  ttfs::net::Buffer buffer;
  size_t fed = 0;
  size_t consumed = 0;  // stream offset of the buffer's first readable byte
  size_t frames = 0;
  size_t chunk = 0;
  bool refused = false;
  while (!refused) {
    // Cut every whole PDU the buffer holds, as IoThread::dispatch_frames does.
    for (;;) {
      const auto readable = buffer.readable();
      FUZZ_CHECK(readable.size() == fed - consumed);
      const auto frame = ttfs::net::next_frame(readable, max_pdu_length);
      if (frame.status == FrameStatus::kNeedMore) {
        // Only an incomplete header, or a good length whose body is not all here.
        FUZZ_CHECK(readable.size() < kPduHeaderSize || (frame.header.length >= kPduHeaderSize &&
                                                        frame.header.length <= max_pdu_length &&
                                                        readable.size() < frame.header.length));
        break;
      }
      FUZZ_CHECK(readable.size() >= kPduHeaderSize);
      check_header_round_trip(readable.data());
      if (frame.status != FrameStatus::kFrame) {
        // Refused the moment its header is readable, never after waiting.
        FUZZ_CHECK(expected.error && frame.status == expected.error_status);
        FUZZ_CHECK(frames == expected.frames.size());
        FUZZ_CHECK(frame.status == FrameStatus::kTooShort ? frame.header.length < kPduHeaderSize
                                                          : frame.header.length > max_pdu_length);
        refused = true;
        break;
      }
      const uint32_t length = frame.header.length;
      FUZZ_CHECK(length >= kPduHeaderSize && length <= max_pdu_length);
      FUZZ_CHECK(length <= readable.size());
      FUZZ_CHECK(frame.header.body_length() == length - kPduHeaderSize);
      FUZZ_CHECK(frames < expected.frames.size());
      FUZZ_CHECK(expected.frames[frames] == std::make_pair(consumed, length));
      const auto pdu = readable.first(length);
      const ttfs::Bytes copy = ttfs::net::copy_pdu(pdu, frame.header);
      FUZZ_CHECK(copy.size() == length && std::memcmp(copy.data(), pdu.data(), length) == 0);
      buffer.consume(length);
      consumed += length;
      ++frames;
    }
    if (refused || fed == stream.size()) break;
    // The next read: 1 to 256 bytes, the sizes the input lists over and over
    // (the whole stream at once when it lists none).
    size_t n = stream.size() - fed;
    if (!chunk_sizes.empty()) {
      n = std::min<size_t>(n, size_t{chunk_sizes[chunk++ % chunk_sizes.size()]} + 1);
    }
    buffer.append(std::span(stream).subspan(fed, n));
    fed += n;
  }
  if (!refused) {
    FUZZ_CHECK(!expected.error);
    FUZZ_CHECK(frames == expected.frames.size());
  }
  return 0;
}
