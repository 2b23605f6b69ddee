#include "storage/meta_io.h"

#include <gtest/gtest.h>

#include <fstream>
#include <memory>

#include "storage/crc32c.h"
#include "storage/file_system.h"
#include "storage_test_util.h"
#include "ttfs_store.pb.h"

namespace ttfs::storage {
namespace {

using testing::make_meta;
using testing::TempDir;

FileMeta sample() {
  // A GBK-encoded name (not UTF-8) and extreme numbers must survive as-is.
  FileMeta meta = make_meta(0xFFFFFFFFFFFFull, std::string("\xb1\xa8\xb8\xe6.pdf"));
  meta.from_user_id = 0xFFFFFFFFu;
  meta.created_at_unix = -5;
  meta.complete = true;
  return meta;
}

// The real file system, with a count of the truncates asked of its files.
class TruncateCountingFileSystem final : public FileSystem {
 public:
  int truncates = 0;

  OpenedFile open(const std::filesystem::path& path, OpenMode mode, bool want_direct) override {
    OpenedFile opened = real().open(path, mode, want_direct);
    if (opened.file)
      opened.file = std::make_unique<CountingFile>(std::move(opened.file), truncates);
    return opened;
  }
  int make_dir(const std::filesystem::path& dir, bool* created) override {
    return real().make_dir(dir, created);
  }
  int make_dirs(const std::filesystem::path& dir, bool* created) override {
    return real().make_dirs(dir, created);
  }
  int sync_dir(const std::filesystem::path& dir) override { return real().sync_dir(dir); }
  int sync_all(const std::filesystem::path& any_path) override { return real().sync_all(any_path); }
  int remove(const std::filesystem::path& path) override { return real().remove(path); }
  int file_size(const std::filesystem::path& path, uint64_t* bytes) override {
    return real().file_size(path, bytes);
  }
  int list_dir(const std::filesystem::path& dir, std::vector<DirEntry>* entries) override {
    return real().list_dir(dir, entries);
  }

 private:
  class CountingFile final : public File {
   public:
    CountingFile(std::unique_ptr<File> file, int& truncates)
        : file_(std::move(file)), truncates_(truncates) {}
    int write_at(iovec* iov, int count, uint64_t offset, uint64_t* syscalls) override {
      return file_->write_at(iov, count, offset, syscalls);
    }
    int read_at(std::span<uint8_t> dst, uint64_t offset) override {
      return file_->read_at(dst, offset);
    }
    int read_scattered(std::span<const std::span<uint8_t>> dsts, uint64_t offset) override {
      return file_->read_scattered(dsts, offset);
    }
    int size(uint64_t* bytes) override { return file_->size(bytes); }
    int truncate(uint64_t bytes) override {
      ++truncates_;
      return file_->truncate(bytes);
    }
    int set_direct(bool on) override { return file_->set_direct(on); }
    int allocate(uint64_t bytes) override { return file_->allocate(bytes); }
    int sync() override { return file_->sync(); }

   private:
    std::unique_ptr<File> file_;
    int& truncates_;
  };

  static FileSystem& real() { return posix_file_system(); }
};

void write_raw(const std::filesystem::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

TEST(MetaIoTest, RoundTrip) {
  const FileMeta meta = sample();
  const auto bytes = encode_meta(meta);
  const auto decoded = decode_meta(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.describe();
  EXPECT_EQ(*decoded.meta, meta);

  FileMeta partial = make_meta(0, "");
  const auto decoded_partial = decode_meta(encode_meta(partial));
  ASSERT_TRUE(decoded_partial.ok());
  EXPECT_EQ(*decoded_partial.meta, partial);
}

// A file holding `record` as written by hand, with a correct header and checksum.
std::vector<uint8_t> file_of(const ttfs::store::FileMetaRecord& record) {
  std::vector<uint8_t> bytes = encode_meta(make_meta(0, ""));
  const std::string body = record.SerializeAsString();
  bytes.resize(kMetaHeaderSize);
  bytes.insert(bytes.end(), body.begin(), body.end());
  for (int i = 0; i < 4; ++i) bytes[8 + i] = static_cast<uint8_t>(body.size() >> (8 * i));
  const std::span<const uint8_t> all(bytes);
  const uint32_t crc = crc32c(all.subspan(kMetaHeaderSize), crc32c(all.first(12)));
  for (int i = 0; i < 4; ++i) bytes[12 + i] = static_cast<uint8_t>(crc >> (8 * i));
  return bytes;
}

TEST(MetaIoTest, ACompleteRecordsDurablePrefixIsNotBelieved) {
  // Only a partial upload has a durable prefix; one in a complete record
  // would not survive being written back, so it is not read either.
  ttfs::store::FileMetaRecord record;
  record.set_task_id(make_meta(0, "").task_id.str());
  record.set_from_user_id(1);
  record.set_to_user_id(2);
  record.set_file_name("a");
  record.set_file_size(100);
  record.set_created_at_unix(1);
  record.set_complete(true);
  record.set_durable_bytes(40);
  const auto decoded = decode_meta(file_of(record));
  ASSERT_TRUE(decoded.ok()) << decoded.describe();
  EXPECT_EQ(decoded.meta->durable_bytes, 0u);
  const auto again = decode_meta(encode_meta(*decoded.meta));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again.meta, *decoded.meta);

  record.set_complete(false);
  EXPECT_EQ(decode_meta(file_of(record)).meta->durable_bytes, 40u) << "a partial upload's is kept";
}

TEST(MetaIoTest, EveryTruncationIsRefused) {
  const auto bytes = encode_meta(sample());
  for (size_t n = 0; n < bytes.size(); ++n) {
    const auto r = decode_meta(std::span(bytes).first(n));
    EXPECT_FALSE(r.ok()) << "prefix of " << n << " bytes accepted";
    EXPECT_EQ(r.error, MetaError::kTruncated) << n;
  }
}

TEST(MetaIoTest, ForeignMagicIsRefused) {
  auto bytes = encode_meta(sample());
  bytes[0] = 'X';
  EXPECT_EQ(decode_meta(bytes).error, MetaError::kBadMagic);
  const std::string text = "this is somebody else's file, long enough for a header";
  EXPECT_EQ(
      decode_meta(std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())).error,
      MetaError::kBadMagic);
}

TEST(MetaIoTest, NewerVersionIsRefused) {
  auto bytes = encode_meta(sample());
  bytes[4] = 2;
  EXPECT_EQ(decode_meta(bytes).error, MetaError::kBadVersion);
}

TEST(MetaIoTest, AnyFlippedBitIsRefused) {
  const auto good = encode_meta(sample());
  for (size_t i = 8; i < good.size(); ++i) {  // past magic and version
    for (int bit = 0; bit < 8; ++bit) {
      auto bytes = good;
      bytes[i] ^= static_cast<uint8_t>(1u << bit);
      EXPECT_FALSE(decode_meta(bytes).ok()) << "byte " << i << " bit " << bit;
    }
  }
  auto body = good;
  body.back() ^= 0x40;
  EXPECT_EQ(decode_meta(body).error, MetaError::kBadChecksum);
}

TEST(MetaIoTest, TrailingBytesAreRefused) {
  auto bytes = encode_meta(sample());
  bytes.push_back(0);
  EXPECT_EQ(decode_meta(bytes).error, MetaError::kBadLength);
}

TEST(MetaIoTest, OverwriteReplacesTheRecordAndLeavesNoTemporary) {
  TempDir dir;
  const StoreLayout layout(dir.path());
  FileMeta meta = sample();
  std::filesystem::create_directories(layout.shard_dir(meta.task_id));

  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);
  EXPECT_FALSE(std::filesystem::exists(layout.meta_tmp_path(meta.task_id)));
  auto read = read_meta_file(layout.fs(), layout.meta_path(meta.task_id));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(*read.meta, meta);

  // A shorter record over a longer one: no tail of the old may remain.
  meta.complete = false;
  meta.file_name = "renamed";
  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);
  read = read_meta_file(layout.fs(), layout.meta_path(meta.task_id));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(*read.meta, meta);
}

TEST(MetaIoTest, OverwriteTruncatesOnlyWhenTheRecordShrinks) {
  TempDir dir;
  TruncateCountingFileSystem fs;
  const StoreLayout layout(dir.path(), fs);
  FileMeta meta = sample();
  meta.file_name = "long-name.bin";
  std::filesystem::create_directories(layout.shard_dir(meta.task_id));

  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);  // a new file
  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);  // the same length again
  meta.file_name = "longer-name.bin";
  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);  // longer
  EXPECT_EQ(fs.truncates, 0);

  meta.file_name = "short";
  ASSERT_EQ(overwrite_meta_file(layout, meta), 0);
  EXPECT_EQ(fs.truncates, 1);
  const auto read = read_meta_file(layout.fs(), layout.meta_path(meta.task_id));
  ASSERT_TRUE(read.ok()) << read.describe();
  EXPECT_EQ(*read.meta, meta);
  EXPECT_EQ(std::filesystem::file_size(layout.meta_path(meta.task_id)), encode_meta(meta).size());
}

TEST(MetaIoTest, OverwriteFailureReportsErrno) {
  TempDir dir;
  const StoreLayout layout(dir.path());
  // No shard directory: the record cannot be created.
  EXPECT_EQ(overwrite_meta_file(layout, sample()), ENOENT);
}

TEST(MetaIoTest, TornAndMissingFilesOnDisk) {
  TempDir dir;
  const StoreLayout layout(dir.path());
  const FileMeta meta = sample();
  std::filesystem::create_directories(layout.shard_dir(meta.task_id));
  const auto path = layout.meta_path(meta.task_id);

  EXPECT_EQ(read_meta_file(posix_file_system(), path).error, MetaError::kNotFound);

  auto bytes = encode_meta(meta);
  bytes.resize(bytes.size() - 3);
  write_raw(path, bytes);
  EXPECT_EQ(read_meta_file(posix_file_system(), path).error, MetaError::kTruncated);

  write_raw(path, {});
  EXPECT_EQ(read_meta_file(posix_file_system(), path).error, MetaError::kTruncated);

  write_raw(path, std::vector<uint8_t>(kMaxMetaFileSize + 1, 'T'));
  EXPECT_FALSE(read_meta_file(posix_file_system(), path).ok());
}

}  // namespace
}  // namespace ttfs::storage
