#include "http/address.h"

#include <gtest/gtest.h>

namespace coffer::http {
namespace {

TEST(ParseHostPortTest, Accepts) {
  auto v4 = ParseHostPort("127.0.0.1:7430");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7430);
  EXPECT_FALSE(v4->ipv6_literal);
  EXPECT_EQ(v4->ToString(), "127.0.0.1:7430");

  auto v6 = ParseHostPort("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  EXPECT_TRUE(v6->ipv6_literal);
  EXPECT_EQ(v6->ToString(), "[::1]:0");

  auto name = ParseHostPort("localhost:65535");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "localhost");
  EXPECT_EQ(name->port, 65535);

  EXPECT_TRUE(ParseHostPort("0.0.0.0:80").ok());
  EXPECT_TRUE(ParseHostPort("[::]:443").ok());
}

TEST(ParseHostPortTest, Rejects) {
  for (const char* bad :
       {"", "127.0.0.1", "127.0.0.1:", ":80", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:8o",
        "::1:80", "[::1:80", "[::1]80", "[]:80", "host name:80", "a/b:80"}) {
    auto r = ParseHostPort(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.status().message().find("HOST:PORT"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace coffer::http
