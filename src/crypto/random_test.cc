#include "crypto/random.h"

#include <set>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace coffer::crypto {
namespace {

TEST(RandomBytesTest, SizeAndFreshness) {
  EXPECT_EQ(RandomBytes(0), "");
  EXPECT_EQ(RandomBytes(1).size(), 1u);
  const std::string a = RandomBytes(32), b = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  // 2^-256 chance of a false failure.
  EXPECT_NE(a, b);
}

TEST(RandomBytesTest, UsesAllByteValues) {
  // 64 KiB of uniform bytes miss a given value with probability (255/256)^65536 ~ 1e-111.
  const std::string bytes = RandomBytes(65536);
  std::set<unsigned char> seen(bytes.begin(), bytes.end());
  EXPECT_EQ(seen.size(), 256u);
}

TEST(RandomUniformTest, StaysInRange) {
  EXPECT_EQ(RandomUniform(1), 0u);
  std::vector<int> counts(10, 0);
  for (int i = 0; i < 10000; ++i) {
    const std::uint64_t v = RandomUniform(10);
    ASSERT_LT(v, 10u);
    ++counts[v];
  }
  // Each bucket expects 1000; 700 is more than 9 standard deviations away.
  for (int c : counts) EXPECT_GT(c, 700);
  const std::uint64_t big = (std::uint64_t{1} << 63) + 12345;
  for (int i = 0; i < 100; ++i) EXPECT_LT(RandomUniform(big), big);
}

TEST(RandomStringTest, DrawsOnlyFromAlphabet) {
  EXPECT_EQ(RandomString(0, "ab"), "");
  EXPECT_EQ(RandomString(5, "z"), "zzzzz");
  const std::string s = RandomString(1000, "abc");
  EXPECT_EQ(s.size(), 1000u);
  EXPECT_EQ(s.find_first_not_of("abc"), std::string::npos);
  EXPECT_NE(s.find('a'), std::string::npos);
  EXPECT_NE(s.find('b'), std::string::npos);
  EXPECT_NE(s.find('c'), std::string::npos);
}

TEST(RandomUuidTest, IsVersion4) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string u = RandomUuid();
    EXPECT_THAT(u, ::testing::MatchesRegex(
                       "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
    seen.insert(u);
  }
  EXPECT_EQ(seen.size(), 100u);
}

}  // namespace
}  // namespace coffer::crypto
