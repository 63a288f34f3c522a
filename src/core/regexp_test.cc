#include "core/regexp.h"

#include <gtest/gtest.h>

namespace coffer {
namespace {

Regexp Must(std::string_view pattern) {
  Result<Regexp> re = Regexp::Compile(pattern);
  EXPECT_TRUE(re.ok()) << re.status().message();
  return *re;
}

TEST(RegexpTest, PartialMatchIsUnanchoredLikeGoMatchString) {
  EXPECT_TRUE(Must("^ml-platform/").PartialMatch("ml-platform/mlflow/db"));
  EXPECT_FALSE(Must("^ml-platform/").PartialMatch("other/ml-platform/x"));
  EXPECT_TRUE(Must("platform").PartialMatch("ml-platform/mlflow/db"));
  EXPECT_TRUE(Must("").PartialMatch("anything"));
  EXPECT_FALSE(Must("db$").PartialMatch("db/x"));
}

TEST(RegexpTest, CompileErrorsDoNotQuoteThePattern) {
  Result<Regexp> re = Regexp::Compile("(s3cr3t");
  ASSERT_FALSE(re.ok());
  EXPECT_EQ(re.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(re.status().message(), "invalid regular expression: missing closing )");
  EXPECT_FALSE(Regexp::Compile("a**").ok());
  EXPECT_FALSE(Regexp::Compile("(?<!x)y").ok());  // no lookbehind in Go
}

TEST(RegexpTest, ReplaceAllExpandsNumberedAndNamedGroups) {
  EXPECT_EQ(Must("ml-platform/(.*)/db").ReplaceAll("ml-platform/mlflow/db", "$1-db"), "mlflow-db");
  EXPECT_EQ(Must("(?P<app>[a-z]+)/db").ReplaceAll("x/app/db", "${app}_DB"), "x/app_DB");
  EXPECT_EQ(Must("(?P<app>[a-z]+)/db").ReplaceAll("app/db", "$app-x"), "app-x");
  // "$1x" names the group "1x", which does not exist: empty (Go's rule).
  EXPECT_EQ(Must("(a)").ReplaceAll("a", "$1x"), "");
  EXPECT_EQ(Must("(a)").ReplaceAll("a", "${1}x"), "ax");
  EXPECT_EQ(Must("(a)").ReplaceAll("a", "$$1"), "$1");
  EXPECT_EQ(Must("(a)").ReplaceAll("a", "$-"), "$-");
  EXPECT_EQ(Must("(a)").ReplaceAll("a", "${1"), "${1");
  EXPECT_EQ(Must("(a)|(b)").ReplaceAll("ab", "[$2]"), "[][b]");
}

TEST(RegexpTest, ReplaceAllEveryMatchAndEmptyMatchesLikeGo) {
  EXPECT_EQ(Must("/").ReplaceAll("a/b/c", "_"), "a_b_c");
  EXPECT_EQ(Must("^path/").ReplaceAll("path/path/x", ""), "path/x");
  // Go: regexp.MustCompile("a*").ReplaceAllString("baaac", "X") == "XbXcX"
  EXPECT_EQ(Must("a*").ReplaceAll("baaac", "X"), "XbXcX");
  EXPECT_EQ(Must("x*").ReplaceAll("", "-"), "-");
  EXPECT_EQ(Must("nomatch").ReplaceAll("key", "y"), "key");
  EXPECT_EQ(Must("é").ReplaceAll("aéb", "e"), "aeb");
}

}  // namespace
}  // namespace coffer
