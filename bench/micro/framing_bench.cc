// PDU framing as the IO thread does it: cut whole PDUs off a receive buffer,
// and encode the control replies a worker sends.
#include <benchmark/benchmark.h>

#include <cstring>
#include <span>
#include <vector>

#include "IM.File.pb.h"
#include "common/task_id.h"
#include "net/io_thread.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"

namespace {

using namespace ttfs;

constexpr size_t kSegment = 32 * 1024;

enum Mix : int64_t { kControl, kData, kMixed };

void append(std::vector<uint8_t>& out, std::span<const uint8_t> pdu) {
  out.insert(out.end(), pdu.begin(), pdu.end());
}

Bytes pull_req_pdu(const std::string& task, uint16_t seq, uint32_t offset) {
  IM::File::IMFilePullDataReq req;
  req.set_task_id(task);
  req.set_user_id(1001);
  req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  req.set_offset(offset);
  req.set_data_size(kSegment);
  return net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, seq, req);
}

Bytes pull_rsp_pdu(const std::string& task, uint16_t seq, uint32_t offset) {
  auto built = net::build_pull_data_rsp(seq, 0, task, 1001, offset, kSegment);
  std::memset(built.pdu.data() + built.data_offset, 0x5a, kSegment);
  return std::move(built.pdu);
}

// What one connection's input buffer holds: the control traffic of a
// downloader (PULL_DATA_REQs only), the data of an uploader (32 KiB
// PULL_DATA_RSPs only), or a relay's alternation of the two.
std::vector<uint8_t> make_stream(Mix mix, size_t* pdus) {
  const std::string task = TaskId::generate().str();
  std::vector<uint8_t> out;
  *pdus = 0;
  const size_t rounds = mix == kControl ? 4096 : 64;
  for (size_t i = 0; i < rounds; ++i) {
    const auto offset = static_cast<uint32_t>(i * kSegment);
    const auto seq = static_cast<uint16_t>(i);
    if (mix != kData) {
      append(out, pull_req_pdu(task, seq, offset).span());
      ++*pdus;
    }
    if (mix != kControl) {
      append(out, pull_rsp_pdu(task, seq, offset).span());
      ++*pdus;
    }
  }
  return out;
}

void BM_NextFrame(benchmark::State& state) {
  size_t pdus = 0;
  const std::vector<uint8_t> stream = make_stream(static_cast<Mix>(state.range(0)), &pdus);
  const uint32_t max_pdu = net::IoOptions{}.max_pdu_length;
  for (auto _ : state) {
    std::span<const uint8_t> in(stream);
    size_t framed = 0;
    for (;;) {
      const net::FrameResult r = net::next_frame(in, max_pdu);
      if (r.status != net::FrameStatus::kFrame) break;
      benchmark::DoNotOptimize(r.header.command_id);
      in = in.subspan(r.header.length);
      ++framed;
    }
    if (framed != pdus) {
      state.SkipWithError("framing stopped early");
      break;
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * stream.size()));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * pdus));
  state.counters["pdu_bytes"] = static_cast<double>(stream.size()) / static_cast<double>(pdus);
}
BENCHMARK(BM_NextFrame)->ArgName("mix")->Arg(kControl)->Arg(kData)->Arg(kMixed);

// The message is filled inside the loop because that is what the worker does
// for every request it sends (Worker::send_pull_req).
void BM_EncodePullDataReq(benchmark::State& state) {
  const std::string task = TaskId::generate().str();
  uint32_t offset = 0;
  size_t bytes = 0;
  for (auto _ : state) {
    IM::File::IMFilePullDataReq req;
    req.set_task_id(task);
    req.set_user_id(1001);
    req.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
    req.set_offset(offset);
    req.set_data_size(kSegment);
    Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, 7, req);
    benchmark::DoNotOptimize(pdu.data());
    benchmark::ClobberMemory();
    bytes += pdu.size();
    offset += kSegment;
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodePullDataReq);

void BM_EncodeLoginRsp(benchmark::State& state) {
  const std::string task = TaskId::generate().str();
  size_t bytes = 0;
  for (auto _ : state) {
    IM::File::IMFileLoginRsp rsp;
    rsp.set_result_code(0);
    rsp.set_task_id(task);
    Bytes pdu = net::encode_pdu(net::kSidFile, net::kCidFileLoginRsp, 7, rsp);
    benchmark::DoNotOptimize(pdu.data());
    benchmark::ClobberMemory();
    bytes += pdu.size();
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_EncodeLoginRsp);

}  // namespace
