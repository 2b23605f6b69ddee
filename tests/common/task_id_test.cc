#include "common/task_id.h"

#include <gtest/gtest.h>

#include <array>
#include <set>
#include <string>
#include <unordered_set>

namespace ttfs {
namespace {

const std::string kCanonical = "0f8fad5b-d9cb-469f-a165-70867728950e";

TEST(TaskId, ParsesTheCanonicalFormAndPrintsItBack) {
  const auto id = TaskId::parse(kCanonical);
  ASSERT_TRUE(id.has_value());
  EXPECT_EQ(id->str(), kCanonical);
  EXPECT_FALSE(id->is_nil());
  EXPECT_EQ(id->shard_prefix(), "0f");
}

TEST(TaskId, EveryHexDigitRoundTrips) {
  for (const std::string text :
       {"01234567-89ab-cdef-0123-456789abcdef", "ffffffff-ffff-ffff-ffff-ffffffffffff",
        "a0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"}) {
    const auto id = TaskId::parse(text);
    ASSERT_TRUE(id.has_value()) << text;
    EXPECT_EQ(id->str(), text);
  }
}

TEST(TaskId, NilIdParsesAndIsTheDefault) {
  const auto id = TaskId::parse("00000000-0000-0000-0000-000000000000");
  ASSERT_TRUE(id.has_value());
  EXPECT_TRUE(id->is_nil());
  EXPECT_TRUE(TaskId().is_nil());
  EXPECT_EQ(*id, TaskId());
  EXPECT_EQ(TaskId().str(), "00000000-0000-0000-0000-000000000000");
}

TEST(TaskId, UpperCaseIsRefused) {
  EXPECT_FALSE(TaskId::parse("0F8FAD5B-D9CB-469F-A165-70867728950E").has_value());
  // One upper-case digit anywhere is enough.
  for (size_t i = 0; i < kCanonical.size(); ++i) {
    if (kCanonical[i] < 'a' || kCanonical[i] > 'f') continue;
    std::string text = kCanonical;
    text[i] = static_cast<char>(text[i] - 'a' + 'A');
    EXPECT_FALSE(TaskId::parse(text).has_value()) << text;
  }
}

TEST(TaskId, BracesAndUrnFormsAreRefused) {
  EXPECT_FALSE(TaskId::parse("{" + kCanonical + "}").has_value());
  // Built with append: GCC 12 at -O3 misreads "{" + substr as an overlapping
  // memcpy (-Wrestrict, GCC bug 105329).
  std::string unclosed = "{";
  unclosed.append(kCanonical, 0, 35);
  EXPECT_FALSE(TaskId::parse(unclosed).has_value());
  EXPECT_FALSE(TaskId::parse("urn:uuid:" + kCanonical).has_value());
}

TEST(TaskId, MissingDashesAreRefused) {
  EXPECT_FALSE(TaskId::parse("0f8fad5bd9cb469fa16570867728950e").has_value());
  // Dashes dropped and the length made up with digits.
  EXPECT_FALSE(TaskId::parse("0f8fad5bd9cb469fa16570867728950e0000").has_value());
}

TEST(TaskId, DashesInTheWrongPlaceAreRefused) {
  for (size_t dash : {8u, 13u, 18u, 23u}) {
    // Swap a dash with its neighbour on each side: the length stays 36.
    for (int dir : {-1, 1}) {
      std::string text = kCanonical;
      std::swap(text[dash], text[dash + static_cast<size_t>(dir)]);
      EXPECT_FALSE(TaskId::parse(text).has_value()) << text;
    }
    std::string no_dash = kCanonical;
    no_dash[dash] = '0';
    EXPECT_FALSE(TaskId::parse(no_dash).has_value()) << no_dash;
  }
  EXPECT_FALSE(TaskId::parse("0f8fad5b-d9cb-469f-a16570867728-950e").has_value());
  EXPECT_FALSE(TaskId::parse("------------------------------------").has_value());
}

TEST(TaskId, WrongLengthsAreRefused) {
  EXPECT_FALSE(TaskId::parse("").has_value());
  EXPECT_FALSE(TaskId::parse(kCanonical.substr(0, 35)).has_value());
  EXPECT_FALSE(TaskId::parse(kCanonical + "0").has_value());
  EXPECT_FALSE(TaskId::parse(kCanonical + "\n").has_value());
  EXPECT_FALSE(TaskId::parse(" " + kCanonical).has_value());
}

TEST(TaskId, NonHexCharactersAreRefused) {
  for (char bad : {'g', 'z', 'G', ' ', '.', '/', '\0', '-', '+', ':'}) {
    for (size_t i : {0u, 7u, 9u, 20u, 35u}) {
      std::string text = kCanonical;
      text[i] = bad;
      EXPECT_FALSE(TaskId::parse(text).has_value()) << "char " << int{bad} << " at " << i;
    }
  }
  // A path that happens to be 36 characters long.
  EXPECT_FALSE(TaskId::parse("../../../../../../../../etc/passwd00").has_value());
}

TEST(TaskId, GeneratedIdsAreDistinctVersionFourAndCanonical) {
  std::unordered_set<TaskId> seen;
  for (int i = 0; i < 1000; ++i) {
    const TaskId id = TaskId::generate();
    const std::string text = id.str();
    ASSERT_EQ(text.size(), TaskId::kTextLength);
    EXPECT_EQ(text[14], '4') << text;  // the version nibble
    EXPECT_TRUE(text[19] == '8' || text[19] == '9' || text[19] == 'a' || text[19] == 'b')
        << text;  // the RFC 4122 variant
    const auto back = TaskId::parse(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, id);
    EXPECT_TRUE(seen.insert(id).second) << "duplicate " << text;
  }
}

TEST(TaskId, EveryBitButTheVersionAndVariantIsRandom) {
  // 122 free bits: over 512 ids each is seen both set and clear (a stuck bit
  // would halve the search space of a guess); the fixed six never change.
  std::array<int, 128> ones{};
  constexpr int kIds = 512;
  for (int i = 0; i < kIds; ++i) {
    const auto id = TaskId::parse(TaskId::generate().str());
    ASSERT_TRUE(id.has_value());
    const std::string text = id->str();
    for (int bit = 0; bit < 128; ++bit) {
      // Bit `bit` of the 16 bytes, read back from the text form.
      const size_t byte = static_cast<size_t>(bit / 8);
      const size_t hex_at = 2 * byte + (byte >= 4) + (byte >= 6) + (byte >= 8) + (byte >= 10);
      const std::string pair = text.substr(hex_at, 2);
      const int value = std::stoi(pair, nullptr, 16);
      ones[static_cast<size_t>(bit)] += (value >> (7 - bit % 8)) & 1;
    }
  }
  const std::set<int> fixed_set = {48, 49, 50, 51, 64, 65};  // version 0100, variant 10
  for (int bit = 0; bit < 128; ++bit) {
    if (fixed_set.contains(bit)) {
      EXPECT_TRUE(ones[static_cast<size_t>(bit)] == 0 || ones[static_cast<size_t>(bit)] == kIds)
          << "bit " << bit;
    } else {
      EXPECT_GT(ones[static_cast<size_t>(bit)], 0) << "bit " << bit << " never set";
      EXPECT_LT(ones[static_cast<size_t>(bit)], kIds) << "bit " << bit << " never clear";
    }
  }
}

TEST(TaskId, EqualityOrderAndHashFollowTheBytes) {
  const auto a = TaskId::parse("00000000-0000-4000-8000-000000000001");
  const auto b = TaskId::parse("00000000-0000-4000-8000-000000000002");
  const auto a2 = TaskId::parse("00000000-0000-4000-8000-000000000001");
  ASSERT_TRUE(a && b && a2);
  EXPECT_EQ(*a, *a2);
  EXPECT_NE(*a, *b);
  EXPECT_TRUE(*a < *b);
  EXPECT_FALSE(*b < *a);
  EXPECT_EQ(a->hash(), a2->hash());
  EXPECT_NE(a->hash(), b->hash());
  EXPECT_EQ(std::hash<TaskId>{}(*a), std::hash<TaskId>{}(*a2));
}

}  // namespace
}  // namespace ttfs
