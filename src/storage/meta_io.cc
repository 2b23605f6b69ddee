#include "storage/meta_io.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "storage/block_checksums.h"
#include "storage/crc32c.h"
#include "ttfs_store.pb.h"

namespace ttfs::storage {

namespace {

constexpr uint8_t kMagic[4] = {'T', 'T', 'F', 'M'};

void put_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

uint16_t get_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}

uint32_t checksum(std::span<const uint8_t> header12, std::span<const uint8_t> body) {
  return crc32c(body, crc32c(header12));
}

MetaReadResult failure(MetaError error, int sys_error = 0) {
  MetaReadResult r;
  r.error = error;
  r.sys_error = sys_error;
  return r;
}

}  // namespace

std::string MetaReadResult::describe() const {
  switch (error) {
    case MetaError::kNone: return "ok";
    case MetaError::kNotFound: return "no metadata";
    case MetaError::kIo: return std::string("cannot read metadata: ") + std::strerror(sys_error);
    case MetaError::kTruncated: return "metadata truncated (torn write?)";
    case MetaError::kBadMagic: return "not a ttfs metadata file (bad magic)";
    case MetaError::kBadVersion: return "metadata from an unknown format version";
    case MetaError::kBadLength: return "metadata length does not match its header";
    case MetaError::kBadChecksum: return "metadata checksum mismatch (torn or corrupted)";
    case MetaError::kBadBody: return "metadata record invalid";
  }
  return "unknown metadata error";
}

std::vector<uint8_t> encode_meta(const FileMeta& meta) {
  ttfs::store::FileMetaRecord record;
  record.set_task_id(meta.task_id.str());
  record.set_from_user_id(meta.from_user_id);
  record.set_to_user_id(meta.to_user_id);
  record.set_file_name(meta.file_name);
  record.set_file_size(meta.file_size);
  record.set_created_at_unix(meta.created_at_unix);
  record.set_complete(meta.complete);
  if (!meta.complete && meta.durable_bytes > 0) record.set_durable_bytes(meta.durable_bytes);
  if (meta.complete && meta.completed_at_unix != 0) {
    record.set_completed_at_unix(meta.completed_at_unix);
  }
  if (!meta.block_checksums.empty()) {
    record.set_block_size(BlockChecksums::kBlockSize);
    std::string* words = record.mutable_block_crc32c();
    words->resize(meta.block_checksums.size() * 4);
    for (size_t i = 0; i < meta.block_checksums.size(); ++i) {
      put_u32(reinterpret_cast<uint8_t*>(words->data()) + 4 * i, meta.block_checksums[i]);
    }
  }
  if (meta.file_checksum) record.set_file_crc32c(*meta.file_checksum);

  const size_t body_size = record.ByteSizeLong();
  std::vector<uint8_t> out(kMetaHeaderSize + body_size);
  std::memcpy(out.data(), kMagic, sizeof kMagic);
  put_u16(out.data() + 4, kMetaVersion);
  put_u16(out.data() + 6, static_cast<uint16_t>(kMetaHeaderSize));
  put_u32(out.data() + 8, static_cast<uint32_t>(body_size));
  record.SerializeWithCachedSizesToArray(out.data() + kMetaHeaderSize);
  const std::span<const uint8_t> all(out);
  put_u32(out.data() + 12, checksum(all.first(12), all.subspan(kMetaHeaderSize)));
  return out;
}

MetaReadResult decode_meta(std::span<const uint8_t> bytes) {
  if (bytes.size() < kMetaHeaderSize) {
    // A file cut short before its magic is as likely torn as foreign; only a
    // full header can tell, so anything shorter is reported as truncated.
    return failure(MetaError::kTruncated);
  }
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return failure(MetaError::kBadMagic);
  if (get_u16(bytes.data() + 4) != kMetaVersion || get_u16(bytes.data() + 6) != kMetaHeaderSize) {
    return failure(MetaError::kBadVersion);
  }
  if (bytes.size() > kMaxMetaFileSize) return failure(MetaError::kBadLength);
  const uint64_t body_size = get_u32(bytes.data() + 8);
  if (bytes.size() - kMetaHeaderSize < body_size) return failure(MetaError::kTruncated);
  if (bytes.size() - kMetaHeaderSize > body_size) return failure(MetaError::kBadLength);
  const auto body = bytes.subspan(kMetaHeaderSize);
  if (checksum(bytes.first(12), body) != get_u32(bytes.data() + 12)) {
    return failure(MetaError::kBadChecksum);
  }

  ttfs::store::FileMetaRecord record;
  if (!record.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return failure(MetaError::kBadBody);
  }
  auto id = TaskId::parse(record.task_id());
  if (!id || id->is_nil()) return failure(MetaError::kBadBody);
  FileMeta meta;
  meta.task_id = *id;
  meta.from_user_id = record.from_user_id();
  meta.to_user_id = record.to_user_id();
  meta.file_name = record.file_name();
  meta.file_size = record.file_size();
  meta.created_at_unix = record.created_at_unix();
  meta.complete = record.complete();
  if (meta.complete) meta.completed_at_unix = record.completed_at_unix();
  // A prefix past the end is not ours to believe: resume from nothing. A
  // complete file has no prefix to resume from; encode_meta writes none.
  meta.durable_bytes =
      !meta.complete && record.durable_bytes() <= meta.file_size ? record.durable_bytes() : 0;
  if (record.has_block_crc32c()) {
    const std::string& words = record.block_crc32c();
    const uint64_t count = words.size() / 4;
    // Another block size would be a newer format's; a count that does not
    // fit the file, or a complete file missing some, is a record not to trust.
    if (record.block_size() != BlockChecksums::kBlockSize || words.size() % 4 != 0 ||
        count > BlockChecksums::block_count(meta.file_size) ||
        (meta.complete && count != BlockChecksums::block_count(meta.file_size))) {
      return failure(MetaError::kBadBody);
    }
    meta.block_checksums.resize(count);
    for (size_t i = 0; i < count; ++i) {
      meta.block_checksums[i] = get_u32(reinterpret_cast<const uint8_t*>(words.data()) + 4 * i);
    }
  }
  if (record.has_file_crc32c()) meta.file_checksum = record.file_crc32c();
  MetaReadResult r;
  r.meta = std::move(meta);
  return r;
}

MetaReadResult read_meta_file(FileSystem& fs, const std::filesystem::path& path) {
  OpenedFile opened = fs.open(path, OpenMode::kRead, false);
  if (!opened.file) {
    return failure(opened.error == ENOENT ? MetaError::kNotFound : MetaError::kIo, opened.error);
  }
  uint64_t size = 0;
  if (const int err = opened.file->size(&size); err != 0) return failure(MetaError::kIo, err);
  if (size > kMaxMetaFileSize) return failure(MetaError::kBadLength);
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  if (const int err = opened.file->read_at(bytes, 0); err != 0) {
    // EIO here means the file shrank between the size and the read: treat as torn.
    return failure(err == EIO ? MetaError::kTruncated : MetaError::kIo, err);
  }
  return decode_meta(bytes);
}

int overwrite_meta_file(const StoreLayout& layout, const FileMeta& meta, bool durable) {
  const auto bytes = encode_meta(meta);
  OpenedFile opened = layout.fs().open(layout.meta_path(meta.task_id), OpenMode::kWrite, false);
  if (!opened.file) return opened.error;
  iovec iov{const_cast<uint8_t*>(bytes.data()), bytes.size()};  // read through only
  uint64_t calls = 0;
  if (const int err = opened.file->write_at(&iov, 1, 0, &calls); err != 0) return err;
  // A longer record from before must not leave its tail behind. Most
  // rewrites are no shorter than the last, and an ftruncate to the size a
  // file already has still costs ext4 a truncate (about 6 µs, two per
  // upload), where an fstat costs next to nothing.
  uint64_t on_disk = 0;
  if (const int err = opened.file->size(&on_disk); err != 0) return err;
  if (on_disk > bytes.size()) {
    if (const int err = opened.file->truncate(bytes.size()); err != 0) return err;
  }
  return durable ? opened.file->sync() : 0;
}

}  // namespace ttfs::storage
