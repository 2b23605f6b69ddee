#include "storage/store_layout.h"

#include <gtest/gtest.h>

namespace ttfs::storage {
namespace {

constexpr const char* kId = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

TEST(StoreLayoutTest, PathsAreShardedByIdPrefix) {
  const StoreLayout layout("/srv/ttfs");
  const auto id = TaskId::parse(kId).value();
  EXPECT_EQ(layout.shard_dir(id), std::filesystem::path("/srv/ttfs/3f"));
  EXPECT_EQ(layout.data_path(id),
            std::filesystem::path("/srv/ttfs/3f/") / (std::string(kId) + ".data"));
  EXPECT_EQ(layout.meta_path(id),
            std::filesystem::path("/srv/ttfs/3f/") / (std::string(kId) + ".meta"));
  EXPECT_EQ(layout.meta_tmp_path(id),
            std::filesystem::path("/srv/ttfs/3f/") / (std::string(kId) + ".meta.tmp"));
}

TEST(StoreLayoutTest, OnlyCanonicalIdsReachAPath) {
  // A path can only be built from a TaskId, and only canonical text parses.
  EXPECT_FALSE(TaskId::parse("3F2504E0-4F89-41D3-9A0C-0305E82C3301"));
  EXPECT_FALSE(TaskId::parse("../../../../etc/passwd"));
  EXPECT_FALSE(TaskId::parse("3f2504e0-4f89-41d3-9a0c-0305e82c330"));
  EXPECT_FALSE(TaskId::parse("3f2504e04f8941d39a0c0305e82c3301"));
  EXPECT_FALSE(TaskId::parse("3f2504e0-4f89-41d3-9a0c-0305e82c3301/"));

  const StoreLayout layout("/srv/ttfs");
  const auto id = TaskId::parse(kId).value();
  const std::string name = layout.data_path(id).filename().string();
  EXPECT_EQ(name, std::string(kId) + ".data");
  EXPECT_EQ(layout.data_path(id).parent_path().parent_path(), layout.root());
}

TEST(StoreLayoutTest, ParseEntryAcceptsOnlyOwnFiles) {
  const std::string id = kId;
  auto data = StoreLayout::parse_entry("3f", id + ".data");
  ASSERT_TRUE(data);
  EXPECT_EQ(data->kind, StoreLayout::EntryKind::kData);
  EXPECT_EQ(data->task_id.str(), id);
  auto meta = StoreLayout::parse_entry("3f", id + ".meta");
  ASSERT_TRUE(meta);
  EXPECT_EQ(meta->kind, StoreLayout::EntryKind::kMeta);
  auto tmp = StoreLayout::parse_entry("3f", id + ".meta.tmp");
  ASSERT_TRUE(tmp);
  EXPECT_EQ(tmp->kind, StoreLayout::EntryKind::kMetaTmp);

  EXPECT_FALSE(StoreLayout::parse_entry("40", id + ".data"));  // wrong shard
  EXPECT_FALSE(StoreLayout::parse_entry("3F", id + ".data"));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", "3F2504E0-4F89-41D3-9A0C-0305E82C3301.data"));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", id + ".dat"));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", id + ".data.tmp"));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", id));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", ".data"));
  EXPECT_FALSE(StoreLayout::parse_entry("3f", "notes.txt"));
}

TEST(StoreLayoutTest, ShardNames) {
  EXPECT_TRUE(StoreLayout::is_shard_name("00"));
  EXPECT_TRUE(StoreLayout::is_shard_name("af"));
  EXPECT_FALSE(StoreLayout::is_shard_name("AF"));
  EXPECT_FALSE(StoreLayout::is_shard_name("a"));
  EXPECT_FALSE(StoreLayout::is_shard_name("abc"));
  EXPECT_FALSE(StoreLayout::is_shard_name(".."));
  EXPECT_FALSE(StoreLayout::is_shard_name("g0"));
}

}  // namespace
}  // namespace ttfs::storage
