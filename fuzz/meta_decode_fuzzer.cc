// The store's metadata decoder on whatever a crash or a foreign hand left in
// <id>.meta. Half the inputs get a correct header and checksum over the rest,
// so that the record's own checks are reached, not just the CRC. A record
// that decodes must be one the store can act on (a real task id, a durable
// prefix within the file, no more block checksums than blocks), and must
// encode to bytes that decode to the same record again.

#include <cstdint>
#include <cstring>
#include <vector>

#include "fuzz_check.h"
#include "quiet_protobuf.h"
#include "storage/block_checksums.h"
#include "storage/crc32c.h"
#include "storage/meta_io.h"

namespace {

using namespace ttfs::storage;

void put_le(uint8_t* p, uint32_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The input as the body of a well-formed file: header and checksum made up.
std::vector<uint8_t> wrap(std::span<const uint8_t> body) {
  std::vector<uint8_t> file(kMetaHeaderSize + body.size());
  std::memcpy(file.data(), "TTFM", 4);
  put_le(file.data() + 4, kMetaVersion, 2);
  put_le(file.data() + 6, kMetaHeaderSize, 2);
  put_le(file.data() + 8, static_cast<uint32_t>(body.size()), 4);
  if (!body.empty()) std::memcpy(file.data() + kMetaHeaderSize, body.data(), body.size());
  const std::span<const uint8_t> all(file);
  put_le(file.data() + 12, crc32c(all.subspan(kMetaHeaderSize), crc32c(all.first(12))), 4);
  return file;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::span<const uint8_t> rest(data + 1, size - 1);
  const std::vector<uint8_t> file =
      (data[0] & 1) != 0 ? wrap(rest) : std::vector<uint8_t>(rest.begin(), rest.end());
  const MetaReadResult result = decode_meta(file);
  FUZZ_CHECK(result.ok() == (result.error == MetaError::kNone));
  FUZZ_CHECK(!result.describe().empty());
  if (!result.ok()) return 0;
  const FileMeta& meta = *result.meta;
  FUZZ_CHECK(!meta.task_id.is_nil());
  FUZZ_CHECK(meta.durable_bytes <= meta.file_size);
  FUZZ_CHECK(meta.block_checksums.size() <= BlockChecksums::block_count(meta.file_size));
  FUZZ_CHECK(!meta.complete || meta.block_checksums.empty() ||
             meta.block_checksums.size() == BlockChecksums::block_count(meta.file_size));

  const MetaReadResult again = decode_meta(encode_meta(meta));
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(*again.meta == meta);
  return 0;
}
