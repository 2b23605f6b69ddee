// The hot message, PULL_DATA_RSP: the hand-written codec the server uses
// against protobuf's generated code for the same bytes. The difference is
// what the codec exists for: protobuf copies file_data into a std::string,
// the view points into the PDU.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <vector>

#include "IM.File.pb.h"
#include "common/task_id.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace {

using namespace ttfs;

std::vector<uint8_t> payload_of(size_t size) {
  std::vector<uint8_t> data(size);
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 131 + 7);
  return data;
}

IM::File::IMFilePullDataRsp message_of(const std::vector<uint8_t>& payload) {
  IM::File::IMFilePullDataRsp rsp;
  rsp.set_result_code(0);
  rsp.set_task_id(TaskId::generate().str());
  rsp.set_user_id(1001);
  rsp.set_offset(3 * 32 * 1024);
  rsp.set_file_data(payload.data(), payload.size());
  return rsp;
}

// The body is serialised by protobuf itself, so both parsers read the bytes
// a real client would send.
std::string body_of(size_t payload_size) {
  return message_of(payload_of(payload_size)).SerializeAsString();
}

void report(benchmark::State& state, size_t payload_size) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * payload_size));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}

void BM_ParsePullDataRsp_Handwritten(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const std::string body = body_of(size);
  const std::span<const uint8_t> in(reinterpret_cast<const uint8_t*>(body.data()), body.size());
  for (auto _ : state) {
    auto view = net::parse_pull_data_rsp(in);
    benchmark::DoNotOptimize(view);
    if (!view || view->file_data.size() != size) {
      state.SkipWithError("parse failed");
      break;
    }
  }
  report(state, size);
}

// A message reused across parses keeps its string's capacity: protobuf's best
// case, with one 32 KiB copy and no allocation per message.
void BM_ParsePullDataRsp_ProtobufReused(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const std::string body = body_of(size);
  IM::File::IMFilePullDataRsp rsp;
  for (auto _ : state) {
    const bool ok = rsp.ParseFromArray(body.data(), static_cast<int>(body.size()));
    benchmark::DoNotOptimize(rsp.file_data().data());
    benchmark::ClobberMemory();
    if (!ok || rsp.file_data().size() != size) {
      state.SkipWithError("parse failed");
      break;
    }
  }
  report(state, size);
}

// A fresh message per PDU, as an IO thread handing each decoded message to a
// worker would need: an allocation and a copy per message.
void BM_ParsePullDataRsp_ProtobufFresh(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const std::string body = body_of(size);
  for (auto _ : state) {
    IM::File::IMFilePullDataRsp rsp;
    const bool ok = rsp.ParseFromArray(body.data(), static_cast<int>(body.size()));
    benchmark::DoNotOptimize(rsp.file_data().data());
    benchmark::ClobberMemory();
    if (!ok || rsp.file_data().size() != size) {
      state.SkipWithError("parse failed");
      break;
    }
  }
  report(state, size);
}

// The server's download path fills the payload with pread in place; a memcpy
// stands in for the pread so that only the encoding differs between variants.
void BM_BuildPullDataRsp_Handwritten(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const std::vector<uint8_t> payload = payload_of(size);
  const std::string task = TaskId::generate().str();
  for (auto _ : state) {
    auto built = net::build_pull_data_rsp(7, 0, task, 1001, 3 * 32 * 1024, size);
    std::memcpy(built.pdu.data() + built.data_offset, payload.data(), size);
    benchmark::DoNotOptimize(built.pdu.data());
    benchmark::ClobberMemory();
  }
  report(state, size);
}

// Protobuf's floor: the message is already filled and the output buffer
// already allocated, so this is one serialising copy of the payload.
void BM_BuildPullDataRsp_ProtobufSerialize(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const auto rsp = message_of(payload_of(size));
  std::vector<uint8_t> out(rsp.ByteSizeLong());
  for (auto _ : state) {
    const bool ok = rsp.SerializeToArray(out.data(), static_cast<int>(out.size()));
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
    if (!ok) {
      state.SkipWithError("serialize failed");
      break;
    }
  }
  report(state, size);
}

// What the server would pay with protobuf on this path: copy the payload into
// the message, then serialise it into a freshly allocated PDU.
void BM_BuildPullDataRsp_ProtobufEncodePdu(benchmark::State& state) {
  const auto size = static_cast<size_t>(state.range(0));
  const std::vector<uint8_t> payload = payload_of(size);
  const std::string task = TaskId::generate().str();
  for (auto _ : state) {
    IM::File::IMFilePullDataRsp rsp;
    rsp.set_result_code(0);
    rsp.set_task_id(task);
    rsp.set_user_id(1001);
    rsp.set_offset(3 * 32 * 1024);
    rsp.set_file_data(payload.data(), payload.size());
    Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFilePullDataRsp, 7, rsp);
    benchmark::DoNotOptimize(pdu.data());
    benchmark::ClobberMemory();
  }
  report(state, size);
}

constexpr int64_t kSmall = 1024;
constexpr int64_t kSegment = 32 * 1024;

BENCHMARK(BM_ParsePullDataRsp_Handwritten)->Arg(kSmall)->Arg(kSegment);
BENCHMARK(BM_ParsePullDataRsp_ProtobufReused)->Arg(kSmall)->Arg(kSegment);
BENCHMARK(BM_ParsePullDataRsp_ProtobufFresh)->Arg(kSmall)->Arg(kSegment);
BENCHMARK(BM_BuildPullDataRsp_Handwritten)->Arg(kSmall)->Arg(kSegment);
BENCHMARK(BM_BuildPullDataRsp_ProtobufSerialize)->Arg(kSmall)->Arg(kSegment);
BENCHMARK(BM_BuildPullDataRsp_ProtobufEncodePdu)->Arg(kSmall)->Arg(kSegment);

}  // namespace
