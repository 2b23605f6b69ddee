// Writes the seed corpora of the fuzz targets: valid PDUs of every command
// the server reads, valid PULL_DATA_RSP bodies, and valid metadata records.
// Run from the repository's root as `make_corpus fuzz/corpus`; the files are
// checked in, so this only needs running again when the seeds change.

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "IM.File.pb.h"
#include "IM.Server.pb.h"
#include "fuzz_task.h"
#include "net/pdu.h"
#include "net/pull_data_codec.h"
#include "storage/meta_io.h"

namespace {

using namespace ttfs;
namespace fs = std::filesystem;

void write(const fs::path& dir, const std::string& name, const std::vector<uint8_t>& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

std::vector<uint8_t> to_vector(const Bytes& b) { return {b.data(), b.data() + b.size()}; }

Bytes pull_data_rsp(uint16_t seq, uint32_t offset, size_t size) {
  auto built = net::build_pull_data_rsp(seq, 0, fuzz::kTaskIdText, 1001, offset, size);
  for (size_t i = 0; i < size; ++i)
    built.pdu.data()[built.data_offset + i] = static_cast<uint8_t>(i);
  return std::move(built.pdu);
}

// Every PDU a client or msg_server sends the server, valid, by name.
std::vector<std::pair<std::string, Bytes>> valid_pdus() {
  std::vector<std::pair<std::string, Bytes>> pdus;
  const std::string task(fuzz::kTaskIdText);

  IM::Server::IMFileTransferReq transfer;
  transfer.set_from_user_id(1001);
  transfer.set_to_user_id(2002);
  transfer.set_file_name("photo.jpg");
  transfer.set_file_size(100000);
  transfer.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  transfer.set_attach_data("ctx");
  pdus.emplace_back("transfer_req",
                    net::encode_pdu(net::kSidOther, net::kCidFileTransferReq, 1, transfer));
  pdus.emplace_back("ip_req", net::encode_empty_pdu(net::kSidOther, net::kCidFileServerIpReq, 2));
  pdus.emplace_back("heartbeat", net::encode_empty_pdu(net::kSidOther, net::kCidHeartbeat, 3));

  IM::File::IMFileLoginReq login;
  login.set_user_id(1001);
  login.set_task_id(task);
  login.set_file_role(IM::BaseDefine::CLIENT_OFFLINE_UPLOAD);
  pdus.emplace_back("login_upload",
                    net::encode_pdu(net::kSidFile, net::kCidFileLoginReq, 4, login));
  login.set_user_id(2002);
  login.set_file_role(IM::BaseDefine::CLIENT_REALTIME_RECVER);
  pdus.emplace_back("login_receiver",
                    net::encode_pdu(net::kSidFile, net::kCidFileLoginReq, 5, login));

  IM::File::IMFilePullDataReq pull;
  pull.set_task_id(task);
  pull.set_user_id(2002);
  pull.set_trans_mode(IM::BaseDefine::FILE_TYPE_OFFLINE);
  pull.set_offset(32768);
  pull.set_data_size(32768);
  pdus.emplace_back("pull_req", net::encode_pdu(net::kSidFile, net::kCidFilePullDataReq, 6, pull));

  pdus.emplace_back("pull_rsp_small", pull_data_rsp(7, 0, 16));
  pdus.emplace_back("pull_rsp_page", pull_data_rsp(8, 32768, 4100));

  IM::File::IMFileState state;
  state.set_state(IM::BaseDefine::CLIENT_FILE_DONE);
  state.set_task_id(task);
  state.set_user_id(1001);
  pdus.emplace_back("state_done", net::encode_pdu(net::kSidFile, net::kCidFileState, 9, state));
  return pdus;
}

void framer_corpus(const fs::path& dir, const std::vector<std::pair<std::string, Bytes>>& pdus) {
  // The target reads its chunk sizes from the front and its settings from
  // the back (FuzzedDataProvider's order): [sizes][stream][count][max][bool].
  std::vector<uint8_t> stream;
  for (const auto& [name, pdu] : pdus) {
    if (pdu.size() < 200) stream.insert(stream.end(), pdu.data(), pdu.data() + pdu.size());
  }
  const std::vector<std::vector<uint8_t>> chunkings = {{}, {0}, {6, 15, 16, 99}};
  int n = 0;
  for (const auto& sizes : chunkings) {
    std::vector<uint8_t> input = sizes;
    input.insert(input.end(), stream.begin(), stream.end());
    input.push_back(static_cast<uint8_t>(sizes.size()));
    input.insert(input.end(), {0xff, 0xff, 0x00, 0x00});  // a maximum of 64 KiB
    input.push_back(0);                                   // not a small maximum
    write(dir, "stream_" + std::to_string(n++), input);
  }
}

void meta_corpus(const fs::path& dir) {
  storage::FileMeta meta;
  meta.task_id = fuzz::fuzz_task_id();
  meta.from_user_id = 1001;
  meta.to_user_id = 2002;
  meta.file_name = "photo.jpg";
  meta.file_size = 70000;
  meta.created_at_unix = 1700000000;
  meta.durable_bytes = 32768;
  meta.block_checksums = {0x11111111};
  std::vector<uint8_t> partial = {0};  // 0: the file as it is, 1: the body, header made up
  const auto encoded_partial = storage::encode_meta(meta);
  partial.insert(partial.end(), encoded_partial.begin(), encoded_partial.end());
  write(dir, "partial", partial);

  meta.complete = true;
  meta.durable_bytes = 0;
  meta.completed_at_unix = 1700000100;
  meta.block_checksums = {1, 2, 3};
  meta.file_checksum = 0xabcdef01;
  const auto encoded_complete = storage::encode_meta(meta);
  std::vector<uint8_t> complete = {0};
  complete.insert(complete.end(), encoded_complete.begin(), encoded_complete.end());
  write(dir, "complete", complete);
  // The body alone, for the target to wrap in a good header and checksum.
  std::vector<uint8_t> body = {1};
  body.insert(body.end(), encoded_complete.begin() + storage::kMetaHeaderSize,
              encoded_complete.end());
  write(dir, "complete_body", body);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus DIR (fuzz/corpus)\n");
    return 2;
  }
  const fs::path root = argv[1];
  const auto pdus = valid_pdus();
  for (const auto& [name, pdu] : pdus) {
    write(root / "router_decode_fuzzer", name, to_vector(pdu));
    if (net::read_header(pdu.data()).command_id == net::kCidFilePullDataRsp) {
      write(root / "pull_data_rsp_fuzzer", name,
            {pdu.data() + net::kPduHeaderSize, pdu.data() + pdu.size()});
    }
  }
  framer_corpus(root / "pdu_framer_fuzzer", pdus);
  meta_corpus(root / "meta_decode_fuzzer");
  return 0;
}
