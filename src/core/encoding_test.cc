#include "core/encoding.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

TEST(EncodingTest, Base64RoundTrip) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.has_value()) << s;
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
}

TEST(EncodingTest, Base64RejectsMalformed) {
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v!A==").has_value());
  EXPECT_FALSE(Base64Decode("Z===").has_value());
  EXPECT_FALSE(Base64Decode("Zm=v").has_value());
}

TEST(EncodingTest, Hex) {
  EXPECT_EQ(HexEncode(std::string("\x01\xab", 2)), "01ab");
  EXPECT_EQ(*HexDecode("01AB"), std::string("\x01\xab", 2));
  EXPECT_FALSE(HexDecode("0g").has_value());
}

TEST(EncodingTest, AmzDate) {
  auto t = ParseAmzDate("20150830T123600Z");
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(*t, 1440938160000LL);
  EXPECT_EQ(FormatAmzDate(*t), "20150830T123600Z");
  EXPECT_EQ(FormatIso8601(*t), "2015-08-30T12:36:00Z");
  EXPECT_FALSE(ParseAmzDate("20150830T123600").has_value());
  EXPECT_FALSE(ParseAmzDate("2015083xT123600Z").has_value());
  EXPECT_EQ(*ParseHttpDate("Sun, 30 Aug 2015 12:36:00 GMT"), 1440938160000LL);
  EXPECT_EQ(StartOfUtcDay(1440938160000LL), 1440892800000LL);
}

}  // namespace
}  // namespace coffer
