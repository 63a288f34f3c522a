#include "kube/label_selector.h"

#include <gtest/gtest.h>

namespace coffer::kube {
namespace {

using Labels = std::map<std::string, std::string>;

TEST(LabelSelectorTest, MatchesLikeKubernetes) {
  const Labels prod = {{"env", "prod"}, {"team", "ml"}, {"tier", "web"}};
  const Labels dev = {{"env", "dev"}, {"team", "data"}};
  struct Case {
    std::string selector;
    bool prod;
    bool dev;
  };
  const Case cases[] = {
      {"", true, true},
      {"env=prod", true, false},
      {"env==prod", true, false},
      {"env!=prod", false, true},
      {"missing!=x", true, true},  // a missing label is "not equal"
      {"env in (prod, staging)", true, false},
      {"env notin (prod)", false, true},
      {"missing notin (a)", true, true},
      {"tier", true, false},
      {"!tier", false, true},
      {"env=prod,team=ml", true, false},
      {"env=prod,team=data", false, false},
      {" team in (ml,data) , !frozen ", true, true},
      {"app.kubernetes.io/name=x", false, false},
      {"env=", false, false},
  };
  for (const Case& c : cases) {
    Result<LabelSelector> s = ParseLabelSelector(c.selector);
    ASSERT_TRUE(s.ok()) << c.selector << ": " << s.status().ToString();
    EXPECT_EQ(Matches(*s, prod), c.prod) << c.selector;
    EXPECT_EQ(Matches(*s, dev), c.dev) << c.selector;
  }
  EXPECT_TRUE(Matches(*ParseLabelSelector("env="), {{"env", ""}}));
  EXPECT_TRUE(ParseLabelSelector("").value().empty());
}

TEST(LabelSelectorTest, BadSyntaxIsAClearError) {
  for (const char* bad : {"=x", "env=prod,", "env in prod", "env in (a", "env !x", "!", "a b",
                          "env in (a b)", ",env=x"}) {
    Result<LabelSelector> s = ParseLabelSelector(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.status().message().find("label selector: "), std::string::npos);
    EXPECT_NE(s.status().message().find("position"), std::string::npos);
  }
}

}  // namespace
}  // namespace coffer::kube
