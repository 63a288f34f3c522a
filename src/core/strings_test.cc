#include "core/strings.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(StringsTest, EqualsIgnoreCase) {
  EXPECT_TRUE(EqualsIgnoreCase("Content-Type", "content-type"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("content-type", "content-typ"));
  EXPECT_FALSE(EqualsIgnoreCase("a", "b"));
}

TEST(StringsTest, TrimSpaces) {
  EXPECT_EQ(TrimSpaces(" \t a b \t"), "a b");
  EXPECT_EQ(TrimSpaces("   "), "");
}

TEST(RegionTest, Formats) {
  for (const char* ok : {"us-east-1", "eu-central-2", "us-gov-west-1", "ap-southeast-4",
                         "ap-southeast-10", "cn-northwest-1", "il-central-1", "us-isob-east-1"}) {
    EXPECT_TRUE(IsValidRegion(ok)) << ok;
  }
  for (const char* bad : {"", "us", "us-1", "useast1", "us-east", "us-east-", "-east-1",
                          "-us-east-1", "Us-east-1", "us-East-1", "us_east_1", "us-east-123",
                          "u-east-1", "us--east-1", "us--1", "us-east-1a", "us-east-1-"}) {
    EXPECT_FALSE(IsValidRegion(bad)) << bad;
  }
}

}  // namespace
TEST(SplitAndTrimTest, ItemsTrimmedEmptiesKept) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(SplitAndTrim(""), V{});
  EXPECT_EQ(SplitAndTrim("  "), V{});
  EXPECT_EQ(SplitAndTrim("a"), V{"a"});
  EXPECT_EQ(SplitAndTrim(" a , b\t,c "), (V{"a", "b", "c"}));
  EXPECT_EQ(SplitAndTrim("a,,b"), (V{"a", "", "b"}));
  EXPECT_EQ(SplitAndTrim("a,"), (V{"a", ""}));
  EXPECT_EQ(SplitAndTrim("k=v;x", ';'), (V{"k=v", "x"}));
}

}  // namespace coffer
